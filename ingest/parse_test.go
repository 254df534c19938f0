package ingest_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// parse parses s and fails the test on error.
func parse(t *testing.T, contentType, s string) ingest.Parsed {
	t.Helper()
	p, err := ingest.Parse(context.Background(), contentType, strings.NewReader(s), 0)
	require.NoError(t, err)
	return p
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, input string
		maxBytes                 int64
		code, msg                string
	}{
		{"too large", ingest.TypeText, strings.Repeat("a", 2049), 2048, ragqueue.ETOOLARGE, "the document is larger than the limit of 2 KiB"},
		{"too large html", ingest.TypeHTML, "<p>" + strings.Repeat("a", 100), 10, ragqueue.ETOOLARGE, "limit of 10 bytes"},
		{"invalid utf-8 text", ingest.TypeText, "caf\xe9", 0, ragqueue.EINVALID, "the file is not valid UTF-8 text"},
		{"invalid utf-8 markdown", ingest.TypeMarkdown, "# caf\xe9", 0, ragqueue.EINVALID, "the file is not valid UTF-8 text"},
		{"empty text", ingest.TypeText, "", 0, ragqueue.EINVALID, "the document contains no text"},
		{"whitespace text", ingest.TypeText, " \r\n\t\n\x00\n", 0, ragqueue.EINVALID, "the document contains no text"},
		{"bom only", ingest.TypeText, "\xef\xbb\xbf", 0, ragqueue.EINVALID, "the document contains no text"},
		{"front matter only", ingest.TypeMarkdown, "---\ntitle: x\n---\n\n", 0, ragqueue.EINVALID, "the document contains no text"},
		{"comment only markdown", ingest.TypeMarkdown, "<!-- nothing -->\n", 0, ragqueue.EINVALID, "the document contains no text"},
		{"empty html", ingest.TypeHTML, "<html><head><title>T</title><script>x()</script></head><body> </body></html>", 0, ragqueue.EINVALID, "the document contains no text"},
		{"pdf", ingest.TypePDF, "%PDF-1.4", 0, ragqueue.EUNSUPPORTED, "Parse does not read PDFs"},
		{"unknown type", "image/png", "x", 0, ragqueue.EUNSUPPORTED, `content type "image/png" is not supported`},
		{"bad type", "", "x", 0, ragqueue.EUNSUPPORTED, "cannot be parsed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ingest.Parse(context.Background(), tt.contentType, strings.NewReader(tt.input), tt.maxBytes)
			require.Error(t, err)
			require.Equal(t, tt.code, ragqueue.ErrorCode(err), "%v", err)
			require.Contains(t, ragqueue.ErrorMessage(err), tt.msg)
		})
	}
}

func TestParseLimitIsInclusive(t *testing.T) {
	t.Parallel()
	p, err := ingest.Parse(context.Background(), ingest.TypeText, strings.NewReader(strings.Repeat("a", 2048)), 2048)
	require.NoError(t, err)
	require.Len(t, p.Sections, 1)
}

// failingReader fails after returning some data.
type failingReader struct{ done bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if r.done {
		return 0, errors.New("connection reset")
	}
	r.done = true
	return copy(p, "some text"), nil
}

func TestParseReadError(t *testing.T) {
	t.Parallel()
	_, err := ingest.Parse(context.Background(), ingest.TypeText, &failingReader{}, 0)
	require.ErrorContains(t, err, "ingest: read document: connection reset")
	require.Equal(t, ragqueue.EINTERNAL, ragqueue.ErrorCode(err), "a failed read is not the input's fault")
}

// cancellingReader cancels its context once it has been read from, then
// keeps returning data for ever.
type cancellingReader struct{ cancel context.CancelFunc }

func (r cancellingReader) Read(p []byte) (int, error) {
	r.cancel()
	return copy(p, strings.Repeat("text ", len(p)/5+1)), nil
}

func TestParseContextCancelled(t *testing.T) {
	t.Parallel()
	t.Run("before", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for _, ct := range []string{ingest.TypeText, ingest.TypeMarkdown, ingest.TypeHTML} {
			_, err := ingest.Parse(ctx, ct, strings.NewReader("hello"), 0)
			require.ErrorIs(t, err, context.Canceled)
			require.Equal(t, ragqueue.EINTERNAL, ragqueue.ErrorCode(err))
		}
	})
	t.Run("while reading an endless body", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		_, err := ingest.Parse(ctx, ingest.TypeText, cancellingReader{cancel}, 0)
		require.ErrorIs(t, err, context.Canceled)
	})
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		<-ctx.Done()
		_, err := ingest.Parse(ctx, ingest.TypeHTML, strings.NewReader("<p>x"), 0)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestParseText(t *testing.T) {
	t.Parallel()
	p := parse(t, ingest.TypeText, "\xef\xbb\xbf\r\n  First   line\there  \r\nsecond\rthird\x07\n\n\n\n\n\nafter gap\u0085\n")
	require.Equal(t, "First line here", p.Title)
	require.Equal(t, []ingest.Section{{Text: "  First   line\there\nsecond\nthird\n\n\nafter gap"}}, p.Sections)

	p = parse(t, ingest.TypeText, strings.Repeat("é", 500))
	require.Equal(t, strings.Repeat("é", 120), p.Title)
	p = parse(t, ingest.TypeText, strings.Repeat("word ", 100))
	require.Equal(t, strings.TrimSpace(strings.Repeat("word ", 24)), p.Title, "no trailing space after the cut")
	p, err := ingest.Parse(context.Background(), "text/plain; charset=utf-8", strings.NewReader("x"), 0)
	require.NoError(t, err)
	require.Equal(t, "x", p.Title)
}

// parseCase is one input of a content type and the title and sections that
// parsing it must give.
type parseCase struct {
	name, input string
	title       string
	sections    []ingest.Section
}

func runParseCases(t *testing.T, contentType string, tests []parseCase) {
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := parse(t, contentType, tt.input)
			require.Equal(t, tt.title, p.Title)
			require.Equal(t, tt.sections, p.Sections)
		})
	}
}

func TestParseMarkdown(t *testing.T) {
	t.Parallel()
	tests := []parseCase{
		{
			name:  "heading paths",
			input: "# Guide\n\nIntro.\n\n## Install\n\nSteps.\n\n### Linux\n\napt install.\n\n### macOS\n\nbrew.\n\n## Use\n\nRun it.\n",
			title: "Guide",
			sections: []ingest.Section{
				{Heading: "Guide", Text: "# Guide\n\nIntro."},
				{Heading: "Install", Text: "## Install\n\nSteps."},
				{Heading: "Install > Linux", Text: "### Linux\n\napt install."},
				{Heading: "Install > macOS", Text: "### macOS\n\nbrew."},
				{Heading: "Use", Text: "## Use\n\nRun it."},
			},
		},
		{
			name:  "several h1s stay in paths",
			input: "# Part one\n\nA.\n\n## Detail\n\nB.\n\n# Part two\n\nC.\n",
			title: "Part one",
			sections: []ingest.Section{
				{Heading: "Part one", Text: "# Part one\n\nA."},
				{Heading: "Part one > Detail", Text: "## Detail\n\nB."},
				{Heading: "Part two", Text: "# Part two\n\nC."},
			},
		},
		{
			name:  "preamble, skipped levels, closing hashes, inline markup",
			input: "Before any heading.\n\n### Deep `code` **bold** [link](http://x) ###\n\nText.\n",
			title: "Before any heading.",
			sections: []ingest.Section{
				{Text: "Before any heading."},
				{Heading: "Deep code bold link", Text: "### Deep `code` **bold** [link](http://x) ###\n\nText."},
			},
		},
		{
			name:  "headings in code blocks are text",
			input: "## Shell\n\n```sh\n# not a heading\n```\n\n~~~~\n## nor this\n~~~\n~~~~\n\n    # indented code\n",
			title: "Shell",
			sections: []ingest.Section{
				{Heading: "Shell", Text: "## Shell\n\n```sh\n# not a heading\n```\n\n~~~~\n## nor this\n~~~\n~~~~\n\n    # indented code"},
			},
		},
		{
			name:  "unclosed fence runs to the end",
			input: "## A\n\n```\n# inside\n\n## still inside\n",
			title: "A",
			sections: []ingest.Section{
				{Heading: "A", Text: "## A\n\n```\n# inside\n\n## still inside"},
			},
		},
		{
			name:  "setext headings",
			input: "Title\n=====\n\nIntro.\n\nPart\n----\n\nBody.\n\nnot a heading\nbecause two lines\n---\n\n- item\n---\n",
			title: "Title",
			sections: []ingest.Section{
				{Heading: "Title", Text: "# Title\n\nIntro."},
				{Heading: "Part", Text: "## Part\n\nBody.\n\nnot a heading\nbecause two lines\n---\n\n- item\n---"},
			},
		},
		{
			name:  "yaml front matter title when there is no h1",
			input: "---\ntitle: 'From front matter'\ndate: 2024-01-01\n---\n## Section\n\nText.\n",
			title: "From front matter",
			sections: []ingest.Section{
				{Heading: "Section", Text: "## Section\n\nText."},
			},
		},
		{
			name:     "toml front matter",
			input:    "+++\ntitle = \"TOML\"\n+++\nBody.\n",
			title:    "TOML",
			sections: []ingest.Section{{Text: "Body."}},
		},
		{
			name:     "rules around prose are not front matter",
			input:    "---\nJust a sentence between rules.\n---\n",
			title:    "Just a sentence between rules.",
			sections: []ingest.Section{{Text: "---\nJust a sentence between rules.\n---"}},
		},
		{
			name:  "heading-only sections are dropped",
			input: "# Doc\n## Empty\n## Full\n\nText.\n",
			title: "Doc",
			sections: []ingest.Section{
				{Heading: "Full", Text: "## Full\n\nText."},
			},
		},
		{
			name:     "headings only are kept",
			input:    "# Just\n## Headings\n",
			title:    "Just",
			sections: []ingest.Section{{Heading: "Just", Text: "# Just"}, {Heading: "Headings", Text: "## Headings"}},
		},
		{
			name:     "html comments and html-only lines go",
			input:    "<div align=\"center\">\n<img src=\"x.png\" alt=\"logo\">\n</div>\n\nText <!-- inline --> here.\n<!--\nmulti\nline\n-->\nMore <kbd>Ctrl</kbd>.\n<https://example.com>\n",
			title:    "Text here.",
			sections: []ingest.Section{{Text: "Text  here.\nMore <kbd>Ctrl</kbd>.\n<https://example.com>"}},
		},
		{
			name:     "not headings",
			input:    "#hashtag\n####### seven\n\\# escaped\n",
			title:    "hashtag",
			sections: []ingest.Section{{Text: "#hashtag\n####### seven\n\\# escaped"}},
		},
	}
	runParseCases(t, ingest.TypeMarkdown, tests)
}

func TestParseHTML(t *testing.T) {
	t.Parallel()
	bigArticle := "<article><h1>Story</h1><p>" + strings.Repeat("Real content. ", 40) + "</p></article>"
	tests := []parseCase{
		{
			name:     "title from h1 when there is no title element",
			input:    "<body><h1>Main &amp; only</h1><p>Body text.</p></body>",
			title:    "Main & only",
			sections: []ingest.Section{{Heading: "Main & only", Text: "Main & only\n\nBody text."}},
		},
		{
			name:  "article preferred over body",
			input: "<body><div class=promo>Subscribe to our newsletter!</div>" + bigArticle + "<div>Related links</div></body>",
			title: "Story",
			sections: []ingest.Section{
				{Heading: "Story", Text: "Story\n\n" + strings.TrimSpace(strings.Repeat("Real content. ", 40))},
			},
		},
		{
			name:  "nearly empty main falls back to the body",
			input: "<body><main><p>Hi.</p></main><div><p>" + strings.Repeat("Body content. ", 20) + "</p></div></body>",
			sections: []ingest.Section{
				{Text: "Hi.\n\n" + strings.TrimSpace(strings.Repeat("Body content. ", 20))},
			},
		},
		{
			name:     "hidden and furniture elements are dropped",
			input:    `<div hidden>h1</div><div aria-hidden="true">h2</div><div style="display: none">h3</div><div role="navigation">h4</div><p>Kept<span role=banner>h5</span>.</p><template><p>h6</p></template><svg><title>h7</title><text>h8</text></svg><select><option>h9</select><iframe>h10</iframe>`,
			sections: []ingest.Section{{Text: "Kept."}},
		},
		{
			name:     "self-closing script still hides its body",
			input:    "<p>a</p><script/>var hidden = 1;</script><p>b</p><svg/><p>c</p>",
			sections: []ingest.Section{{Text: "a\n\nb\n\nc"}},
		},
		{
			name:     "whitespace, breaks and lists",
			input:    "<p>  one\n\t two  </p><div>three<br>four<br/><br>five</div><ul><li>x</li><li><p>y</p></li><li></li></ul><p>z</p>",
			sections: []ingest.Section{{Text: "one two\n\nthree\nfour\n\nfive\n\n- x\n\n- y\n\nz"}},
		},
		{
			name:     "pre keeps its lines",
			input:    "<p>Run:</p><pre>\n  go   test\n\n  go vet\n</pre><p>Done.</p>",
			sections: []ingest.Section{{Text: "Run:\n\n  go   test\n\n  go vet\n\nDone."}},
		},
		{
			name:     "tables",
			input:    "<table><tr><th>k</th><th>v</th></tr><tr><td>a</td><td>1</td></tr></table>",
			sections: []ingest.Section{{Text: "k | v\na | 1"}},
		},
		{
			name:  "h4 does not start a section, unclosed heading ends at a block",
			input: "<h2>Top<p>para under top</p><h4>Minor</h4><p>text</p>",
			sections: []ingest.Section{
				{Heading: "Top", Text: "Top\n\npara under top\n\nMinor\n\ntext"},
			},
		},
		{
			name:     "line break inside a heading",
			input:    "<h2>Foo<br>Bar</h2><p>x</p>",
			sections: []ingest.Section{{Heading: "Foo Bar", Text: "Foo\nBar\n\nx"}},
		},
		{
			name:     "entities and invisible characters",
			input:    "<p>&lt;b&gt; &copy; &#65;&#x42; &nbsp;x\u200b\u202e\x01</p>",
			sections: []ingest.Section{{Text: "<b> © AB x"}},
		},
		{
			name:     "unclosed header keeps the page rather than losing it",
			input:    "<body><header><h1>Site</h1><p>All the content is here, inside an unclosed header.</p></body>",
			title:    "Site",
			sections: []ingest.Section{{Heading: "Site", Text: "Site\n\nAll the content is here, inside an unclosed header."}},
		},
		{
			name:     "page in a form",
			input:    "<body><form id=aspnetForm><h2>Doc</h2><p>Everything inside a WebForms form element.</p></form></body>",
			sections: []ingest.Section{{Heading: "Doc", Text: "Doc\n\nEverything inside a WebForms form element."}},
		},
		{
			name:     "stray end tags",
			input:    "</div></article></pre></h2><p>ok</p></nav></script>",
			sections: []ingest.Section{{Text: "ok"}},
		},
	}
	runParseCases(t, ingest.TypeHTML, tests)
}

func TestParseHTMLCharset(t *testing.T) {
	t.Parallel()
	latin1 := "<p>caf\xe9</p>"
	// No declaration and not UTF-8: windows-1252, as browsers do.
	require.Equal(t, "café", parse(t, ingest.TypeHTML, latin1).Sections[0].Text)
	// The content type's charset wins.
	p, err := ingest.Parse(context.Background(), "text/html; charset=iso-8859-1", strings.NewReader(latin1), 0)
	require.NoError(t, err)
	require.Equal(t, "café", p.Sections[0].Text)
	// A <meta> declaration is used when the bytes are not UTF-8.
	sjis := "<meta charset=shift_jis><p>\x93\xfa\x96\x7b</p>"
	require.Equal(t, "日本", parse(t, ingest.TypeHTML, sjis).Sections[0].Text)
	// UTF-8 bytes under a wrong <meta> stay UTF-8.
	require.Equal(t, "café", parse(t, ingest.TypeHTML, "<meta charset=iso-8859-1><p>café</p>").Sections[0].Text)
	// UTF-16 with a BOM.
	utf16 := "\xff\xfe<\x00p\x00>\x00h\x00i\x00"
	require.Equal(t, "hi", parse(t, ingest.TypeHTML, utf16).Sections[0].Text)
}

func TestParseHTMLDeepNesting(t *testing.T) {
	t.Parallel()
	const depth = 200_000
	doc := strings.Repeat("<div><span><b>", depth) + "deep" + strings.Repeat("</b></span></div>", depth/2) +
		strings.Repeat("<nav>", 1000) + "dropped" // unclosed: dropped to the end
	// The streaming extractor is linear and keeps no stack, so this depth
	// parses (about a second under -race). No deadline is asserted: a
	// quadratic parser, hours at this depth, runs into go test's -timeout.
	p := parse(t, ingest.TypeHTML, doc)
	require.Equal(t, []ingest.Section{{Text: "deep"}}, p.Sections)
}

// slowReader hands out one byte at a time, to exercise buffering.
type slowReader struct{ r io.Reader }

func (s slowReader) Read(p []byte) (int, error) { return s.r.Read(p[:min(len(p), 1)]) }

func TestParseSlowReader(t *testing.T) {
	t.Parallel()
	p, err := ingest.Parse(context.Background(), ingest.TypeMarkdown, slowReader{strings.NewReader("# T\n\nbody")}, 100)
	require.NoError(t, err)
	require.Equal(t, "T", p.Title)
}
