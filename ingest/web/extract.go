package web

import (
	"context"
	"log/slog"
	"net/url"
	"strings"

	readability "codeberg.org/readeck/go-readability/v2"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// Limits of the HTML extractor.
const (
	// maxLinks caps the links kept from one page.
	maxLinks = 10000
	// maxReadabilityElems and maxReadabilityDepth: pages with more elements
	// or deeper nesting skip readability (whose cost grows with both and
	// whose tree walks recurse) and use the streaming extractor instead.
	maxReadabilityElems = 30000
	maxReadabilityDepth = 256
	// thinArticle: a readability result with less text than this is
	// compared with the whole page's text, which wins when it has more than
	// thinGain times as much (readability found almost nothing).
	thinArticle = 500
	thinGain    = 2
)

// htmlResult is what extractHTML finds in a page.
type htmlResult struct {
	parsed   ingest.Parsed
	links    []string
	noIndex  bool
	noFollow bool
}

// extractHTML finds an HTML page's main content with readability and turns
// it into sections with ingest's HTML parser; when readability finds almost
// nothing (or the page is too big or deep for it) the whole page's text is
// used, as ingest.Parse extracts it. It also collects the page's links and
// robots meta directives. Links are returned even when there is no text.
func extractHTML(ctx context.Context, body []byte, charsetParam string, pageURL *url.URL) (htmlResult, error) {
	src := ingest.DecodeHTML(body, charsetParam)
	var scan docScan
	doc, err := html.Parse(strings.NewReader(src))
	if err != nil {
		// Too deep for the tree builder (it stops at 512 open elements):
		// the streaming extractor and a token scan do without a tree.
		doc = nil
		scan = scanTokens(src, pageURL)
	} else {
		scan = scanDoc(doc, pageURL)
	}
	res := htmlResult{links: scan.links, noIndex: scan.noIndex, noFollow: scan.noFollow}

	var article ingest.Parsed
	articleLen := 0
	if doc != nil && scan.elems <= maxReadabilityElems && scan.depth <= maxReadabilityDepth {
		if node, title, ok := readable(doc, pageURL); ok {
			article, err = ingest.ParseHTMLNode(ctx, node, title)
			if err == nil {
				articleLen = textLen(article)
			} else if ctx.Err() != nil {
				return res, err
			}
		}
	}
	if articleLen < thinArticle {
		whole, err := ingest.Parse(ctx, ingest.TypeHTML+"; charset=utf-8", strings.NewReader(src), 0)
		switch {
		case err == nil && textLen(whole) > thinGain*articleLen:
			if article.Title != "" {
				whole.Title = article.Title // readability's title drops site-name suffixes
			}
			article = whole
		case err != nil && articleLen == 0:
			return res, err
		}
	}
	res.parsed = article
	return res, nil
}

// readable runs readability over doc (which it mutates) and returns the
// article it finds and the article's title. ok is false when it finds
// nothing or fails.
func readable(doc *html.Node, pageURL *url.URL) (article *html.Node, title string, ok bool) {
	defer func() {
		if recover() != nil { // a bug in the library must not take the worker down
			article, title, ok = nil, "", false
		}
	}()
	p := readability.NewParser()
	p.MaxElemsToParse = maxReadabilityElems
	// The default logger formats every record before discarding it.
	p.Logger = slog.New(slog.DiscardHandler)
	a, err := p.ParseAndMutate(doc, pageURL)
	if err != nil || a.Node == nil {
		return nil, "", false
	}
	return a.Node, a.Title(), true
}

// textLen is the amount of text in p.
func textLen(p ingest.Parsed) int {
	n := 0
	for _, s := range p.Sections {
		n += len(s.Text)
	}
	return n
}

// docScan is what one walk over a parsed page finds.
type docScan struct {
	links    []string
	noIndex  bool
	noFollow bool
	elems    int // element count
	depth    int // deepest element nesting
}

// scanDoc walks doc without recursion, collecting links (resolved against
// <base href> or pageURL, normalised, de-duplicated, without
// rel="nofollow"), robots meta directives, and the tree's size and depth.
func scanDoc(doc *html.Node, pageURL *url.URL) docScan {
	var ls linkScan
	ls.init(pageURL)
	depth := 0
	for n := doc; n != nil; {
		if n.Type == html.ElementNode {
			ls.elems++
			ls.depth = max(ls.depth, depth)
			ls.element(n.DataAtom, func(key string) (string, bool) { return attr(n, key) })
		}
		// Next node in document order.
		if n.FirstChild != nil {
			n = n.FirstChild
			depth++
			continue
		}
		for n != nil && n.NextSibling == nil {
			n = n.Parent
			depth--
		}
		if n != nil {
			n = n.NextSibling
		}
	}
	return ls.finish()
}

// scanTokens is scanDoc for pages the tree builder refuses: it reads the
// tokens, so it needs no tree (depth is not measured).
func scanTokens(src string, pageURL *url.URL) docScan {
	var ls linkScan
	ls.init(pageURL)
	z := html.NewTokenizer(strings.NewReader(src))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		ls.elems++
		name, hasAttr := z.TagName()
		a := atom.Lookup(name)
		if !hasAttr || a != atom.A && a != atom.Area && a != atom.Base && a != atom.Meta {
			continue
		}
		var attrs []html.Attribute
		for more := true; more; {
			var k, v []byte
			k, v, more = z.TagAttr()
			attrs = append(attrs, html.Attribute{Key: string(k), Val: string(v)})
		}
		ls.element(a, func(key string) (string, bool) { return attr(&html.Node{Attr: attrs}, key) })
	}
	return ls.finish()
}

// linkScan gathers what scanDoc and scanTokens find, element by element.
type linkScan struct {
	docScan
	page    *url.URL
	base    *url.URL
	baseSet bool
	hrefs   []string
}

// init starts a scan of the page at pageURL.
func (ls *linkScan) init(pageURL *url.URL) {
	ls.page, ls.base = pageURL, pageURL
}

// element takes one element's interesting attributes.
func (ls *linkScan) element(a atom.Atom, attr func(string) (string, bool)) {
	switch a {
	case atom.Base:
		if href, ok := attr("href"); ok && !ls.baseSet {
			ls.baseSet = true
			if b, err := ls.page.Parse(strings.TrimSpace(href)); err == nil && (b.Scheme == "http" || b.Scheme == "https") {
				ls.base = b
			}
		}
	case atom.A, atom.Area:
		if href, ok := attr("href"); ok && len(ls.hrefs) < 4*maxLinks {
			if rel, _ := attr("rel"); !hasToken(rel, "nofollow") {
				ls.hrefs = append(ls.hrefs, href)
			}
		}
	case atom.Meta:
		if name, _ := attr("name"); strings.EqualFold(strings.TrimSpace(name), "robots") {
			content, _ := attr("content")
			ni, nf := robotsDirectives(content)
			ls.noIndex = ls.noIndex || ni
			ls.noFollow = ls.noFollow || nf
		}
	}
}

// finish resolves, normalises and de-duplicates the links.
func (ls *linkScan) finish() docScan {
	seen := make(map[string]bool, len(ls.hrefs))
	for _, h := range ls.hrefs {
		h = strings.TrimSpace(h)
		if h == "" || h[0] == '#' || len(h) > maxURLBytes {
			continue
		}
		u, err := ls.base.Parse(h)
		if err != nil || u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			continue
		}
		norm, err := normalizeParsed(u)
		if err != nil || seen[norm] {
			continue
		}
		seen[norm] = true
		ls.links = append(ls.links, norm)
		if len(ls.links) == maxLinks {
			break
		}
	}
	return ls.docScan
}

// attr returns the value of n's attribute key.
func attr(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// hasToken reports whether the space-separated list v holds tok (ASCII
// case-insensitively).
func hasToken(v, tok string) bool {
	for _, f := range strings.Fields(v) {
		if strings.EqualFold(f, tok) {
			return true
		}
	}
	return false
}

// ExtractHTML turns the stored bytes of an HTML page fetched from pageURL
// into readable text exactly as the crawler did when it fetched it
// (readability, falling back to the whole page), so that re-parsing a
// crawled document — a retry, or the reconciler after a crash — indexes the
// same text as the first time.
func ExtractHTML(ctx context.Context, body []byte, pageURL string) (ingest.Parsed, error) {
	u, err := url.Parse(pageURL)
	if err != nil {
		return ingest.Parsed{}, codeErr(ragqueue.EINVALID, "the page URL %q does not parse", pageURL)
	}
	x, err := extractHTML(ctx, body, "", u)
	x.parsed.Title = titleOr(x.parsed.Title, u)
	return x.parsed, err
}

// IsWebSource reports whether a document source is a page's URL (crawled
// or named in a question) rather than an upload.
func IsWebSource(source string) bool {
	return strings.HasPrefix(source, "http://") || strings.HasPrefix(source, "https://")
}
