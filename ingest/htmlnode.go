package ingest

import (
	"context"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// ParseHTMLNode extracts the text of an HTML tree exactly as Parse extracts
// it from the bytes of the document "<title>title</title>" followed by n
// rendered as the body (n itself included). The web extractor uses it on
// the article readability finds: walking the tree gives the same result as
// rendering it and reading it back, for a fraction of the work.
func ParseHTMLNode(ctx context.Context, n *html.Node, title string) (Parsed, error) {
	return withText(extractLeniently(func(lenient bool) (Parsed, int, error) {
		x := htmlExtractor{lenient: lenient}
		x.startTag([]byte("html"), false, noAttrs)
		x.startTag([]byte("head"), false, noAttrs)
		x.startTag([]byte("title"), false, noAttrs)
		if title != "" {
			x.text([]byte(title))
		}
		x.endTag([]byte("title"))
		x.endTag([]byte("head"))
		x.startTag([]byte("body"), false, noAttrs)
		if err := x.walk(ctx, n); err != nil {
			return Parsed{}, 0, err
		}
		x.endTag([]byte("body"))
		x.endTag([]byte("html"))
		p, size := x.finish()
		return p, size, nil
	}))
}

// noAttrs is the attributes of an element that has none.
func noAttrs() ([]byte, []byte, bool) { return nil, nil, false }

// walk feeds the extractor the tokens html.Render would write for root and
// its subtree, in document order, without recursion.
func (x *htmlExtractor) walk(ctx context.Context, root *html.Node) error {
	count := 0
	for n := root; n != nil; {
		if count++; count%checkEvery == 0 {
			if err := ctxErr(ctx); err != nil {
				return err
			}
		}
		x.enter(n)
		if n.FirstChild != nil {
			n = n.FirstChild
			continue
		}
		for n != root && n.NextSibling == nil {
			x.leave(n)
			n = n.Parent
		}
		x.leave(n)
		if n == root {
			break
		}
		n = n.NextSibling
	}
	return nil
}

// enter handles the start of n: its start tag or its text.
func (x *htmlExtractor) enter(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		data := n.Data
		if p := n.Parent; p != nil && p.FirstChild == n && strings.HasPrefix(data, "\n") &&
			p.Type == html.ElementNode && (p.DataAtom == atom.Pre || p.DataAtom == atom.Listing || p.DataAtom == atom.Textarea) {
			// Render writes one more newline here, which a reader drops.
			data = "\n" + data
		}
		x.text([]byte(data))
	case html.ElementNode:
		attrs := n.Attr
		x.startTag(tagName(n), voidElement(n.DataAtom), func() ([]byte, []byte, bool) {
			if len(attrs) == 0 {
				return nil, nil, false
			}
			a := attrs[0]
			attrs = attrs[1:]
			return []byte(a.Key), []byte(a.Val), true
		})
	}
}

// leave handles the end of n: the end tag Render writes for an element
// that is not void.
func (x *htmlExtractor) leave(n *html.Node) {
	if n.Type == html.ElementNode && !voidElement(n.DataAtom) {
		x.endTag(tagName(n))
	}
}

// tagName is n's tag name as a tokenizer reports it: lower case (the tree
// keeps SVG's camelCase names, such as foreignObject).
func tagName(n *html.Node) []byte {
	if n.Namespace != "" {
		return []byte(strings.ToLower(n.Data))
	}
	return []byte(n.Data)
}
