package ingest_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/ragqueue/ragqueue/ingest"
)

// checkNodeMatchesRender asserts ParseHTMLNode's contract on the first 20
// elements of the tree parsed from data: the result is what Parse makes of
// the element rendered as the body of a document titled title. It returns
// how many elements it checked.
func checkNodeMatchesRender(t *testing.T, data []byte, title string) (checked int) {
	doc, err := html.Parse(bytes.NewReader(data))
	if err != nil {
		return 0 // too deep for the tree builder: nothing to walk
	}
	for n := range doc.Descendants() {
		if checked == 20 {
			break
		}
		if n.Type != html.ElementNode {
			continue
		}
		checked++
		var b bytes.Buffer
		b.WriteString("<!doctype html><html><head><title>" + html.EscapeString(title) + "</title></head><body>")
		if html.Render(&b, n) != nil {
			continue // not renderable: the old path gave up too
		}
		b.WriteString("</body></html>")
		want, wantErr := ingest.Parse(context.Background(), ingest.TypeHTML+"; charset=utf-8", &b, 0)
		got, gotErr := ingest.ParseHTMLNode(context.Background(), n, title)
		if wantErr != nil {
			require.Error(t, gotErr, "<%s>", n.Data)
			continue
		}
		require.NoError(t, gotErr, "<%s>", n.Data)
		require.Equal(t, want, got, "<%s> of %q", n.Data, data)
	}
	return checked
}

// nodeCases are the markup whose rendering and re-reading the walk must
// reproduce: leading newlines of <pre>, void and self-closed elements,
// foreign content, dropped and hidden elements, main content, raw text.
var nodeCases = []string{
	"<pre>\n\n x\n</pre><p>y",
	"<listing>\nl</listing><textarea>\nt</textarea>",
	"<p>a<br>b<img src=x>c<hr>d<wbr>e</p>",
	"<svg><foreignObject><p>in svg</p></foreignObject></svg><math><mi>x</mi></math>after",
	"<div hidden>h</div><div style='display: none'>n</div><div role=navigation>nav</div><div aria-hidden=TRUE>a</div>visible",
	"<main><h1>T</h1><p>" + strings.Repeat("main text ", 30) + "</p></main><aside>side</aside>",
	"<article><header><h1>Title</h1></header><nav>n</nav>x</article>",
	"<table><tr><th>h<td>a<td>b<tr><td>c</table>",
	"<ul><li>one<li>two<ol><li>three</ol></ul>",
	"<h1>a<h2>b<h3>c</h1>d",
	"<script>var x = '<p>'</script><style>p{}</style><noscript>n</noscript>s",
	"<p>&amp; &lt;tag&gt; &nbsp;&eacute;</p>",
	"<form><input value=v><button>b</button><select><option>o</select></form>f",
	"<dl><dt>term<dd>definition</dl><details><summary>s</summary>d</details>",
}

func TestParseHTMLNodeMatchesRender(t *testing.T) {
	t.Parallel()
	for _, c := range nodeCases {
		require.Positive(t, checkNodeMatchesRender(t, []byte(c), "A & <title>"), c)
	}
	for _, name := range []string{"guide.html", "malformed.html", "latin1.htm"} {
		data := readTestdata(name)(t)
		require.Positive(t, checkNodeMatchesRender(t, []byte(ingest.DecodeHTML(data, "")), ""), name)
	}
}

func TestParseHTMLNodeCancelled(t *testing.T) {
	t.Parallel()
	doc, err := html.Parse(strings.NewReader("<div>" + strings.Repeat("<p>x</p>", 5000) + "</div>"))
	require.NoError(t, err)
	var div *html.Node
	for n := range doc.Descendants() {
		if n.DataAtom == atom.Div {
			div = n
			break
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = ingest.ParseHTMLNode(ctx, div, "t")
	require.ErrorIs(t, err, context.Canceled)
}

func FuzzParseHTMLNode(f *testing.F) {
	addSeeds(f, "*.htm*", nodeCases...)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkNodeMatchesRender(t, []byte(strings.ToValidUTF8(string(data), "\uFFFD")), "t")
	})
}

// readTestdata returns a function reading a file under testdata.
func readTestdata(name string) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		return data
	}
}
