package ingest

import (
	"context"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/net/html/charset"
)

// The extractor streams tokens rather than building a tree: one pass, no
// recursion, memory proportional to the text kept, however deep or broken
// the markup. It trades the tree builder's exact error recovery for that;
// what matters here (which text is visible, where blocks and headings
// start) survives malformed markup well enough.

// maxHeadingTextBytes caps how much of a heading or <title> is collected.
const maxHeadingTextBytes = 4 * MaxTitleRunes * utf8.UTFMax

// Thresholds for choosing what text to keep.
const (
	// mainShare: <main>/<article> text is preferred when it holds at least
	// 1/mainShare of the page's text; below that it is a teaser or a card.
	mainShare = 5
	// tinyText and lenientGain: when dropping boilerplate (nav, header,
	// form…) leaves under tinyText bytes and keeping it would give
	// lenientGain times more, the page is probably malformed (an unclosed
	// <header>) or all inside a <form>, so the boilerplate is kept.
	tinyText    = 100
	lenientGain = 10
)

// parseHTML handles TypeHTML. charsetParam is the charset parameter of the
// content type, if any; otherwise the encoding comes from a BOM or <meta>,
// else UTF-8 when the bytes are valid UTF-8, else windows-1252.
func parseHTML(ctx context.Context, data []byte, charsetParam string) (Parsed, error) {
	src := DecodeHTML(data, charsetParam)
	return extractLeniently(func(lenient bool) (Parsed, int, error) { return extractHTML(ctx, src, lenient) })
}

// extractLeniently runs extract without the page's boilerplate and, when
// that leaves almost nothing, again with it, keeping the better result.
func extractLeniently(extract func(lenient bool) (Parsed, int, error)) (Parsed, error) {
	p, size, err := extract(false)
	if err != nil {
		return Parsed{}, err
	}
	if size < tinyText {
		lp, lsize, err := extract(true)
		if err != nil {
			return Parsed{}, err
		}
		if lsize > 0 && lsize >= lenientGain*size {
			p.Sections = lp.Sections
			if p.Title == "" {
				p.Title = lp.Title
			}
		}
	}
	return p, nil
}

// DecodeHTML converts an HTML document to valid UTF-8: the charset
// parameter of its content type (charsetParam, "" for none), else a BOM or
// <meta>, else UTF-8 when the bytes are valid UTF-8, else windows-1252.
// A leading byte order mark is dropped: the extractor would skip it as
// invisible anyway, and a tree builder would read it as text before
// <html>, opening the body before the <head>'s elements.
func DecodeHTML(data []byte, charsetParam string) string {
	ct := "text/html"
	if charsetParam != "" {
		ct += "; charset=" + charsetParam
	}
	enc, name, certain := charset.DetermineEncoding(data, ct)
	if name != "utf-8" && (certain || !utf8.Valid(data)) {
		if out, err := enc.NewDecoder().Bytes(data); err == nil {
			data = out
		}
	}
	return strings.TrimPrefix(strings.ToValidUTF8(string(data), "\uFFFD"), "\uFEFF")
}

// extractHTML pulls the readable text out of src. lenient keeps the page's
// boilerplate (nav, header, footer, aside, form, hidden elements) but still
// drops scripts, styles and the like. It returns the text size it kept.
func extractHTML(ctx context.Context, src string, lenient bool) (Parsed, int, error) {
	z := html.NewTokenizer(strings.NewReader(src))
	x := htmlExtractor{lenient: lenient}
	for n := 0; ; n++ {
		if n%checkEvery == 0 {
			if err := ctxErr(ctx); err != nil {
				return Parsed{}, 0, err
			}
		}
		tt := z.Next()
		if tt == html.ErrorToken {
			break // io.EOF: the tokenizer reads from memory and has no buffer limit
		}
		x.token(z, tt)
	}
	p, size := x.finish()
	return p, size, nil
}

// finish returns what the extractor kept and its size.
func (x *htmlExtractor) finish() (Parsed, int) {
	doc := &x.all
	if x.main.size > 0 && x.main.size*mainShare >= x.all.size {
		doc = &x.main
	}
	doc.flush()
	title := CleanLine(x.title.String(), MaxTitleRunes)
	if title == "" {
		title = doc.firstH1
	}
	if title == "" {
		title = x.all.firstH1
	}
	return Parsed{Title: title, Sections: finishSections(doc.sections)}, doc.size
}

// htmlExtractor is extractHTML's token-by-token state.
type htmlExtractor struct {
	lenient bool

	all  htmlDoc // the whole page's text
	main htmlDoc // the text inside <main> and <article>

	skipTag   string // the element being dropped, while skipDepth > 0
	skipDepth int    // nesting of skipTag inside the dropped element
	mainDepth int    // nesting of <main> and <article>
	preDepth  int    // nesting of <pre> and the like

	inTitle   bool
	titleDone bool
	title     strings.Builder
}

// token handles one token.
func (x *htmlExtractor) token(z *html.Tokenizer, tt html.TokenType) {
	switch tt {
	case html.TextToken:
		x.text(z.Text())
	case html.StartTagToken, html.SelfClosingTagToken:
		name, hasAttr := z.TagName()
		x.startTag(name, tt == html.SelfClosingTagToken, func() (key, val []byte, ok bool) {
			if !hasAttr {
				return nil, nil, false
			}
			key, val, hasAttr = z.TagAttr()
			return key, val, true
		})
	case html.EndTagToken:
		name, _ := z.TagName()
		x.endTag(name)
	}
}

// attrFunc returns an element's attributes one by one; ok is false when
// there are no more.
type attrFunc func() (key, val []byte, ok bool)

// text handles text outside tags.
func (x *htmlExtractor) text(text []byte) {
	if x.skipDepth > 0 {
		return
	}
	if x.inTitle {
		if x.title.Len() < maxHeadingTextBytes {
			x.title.Write(text[:min(len(text), maxHeadingTextBytes)])
		}
		return
	}
	x.each(func(d *htmlDoc) { d.write(text, x.preDepth > 0) })
}

// startTag handles a start tag named name (lower case).
func (x *htmlExtractor) startTag(name []byte, selfClosing bool, attrs attrFunc) {
	a := atom.Lookup(name)
	// Browsers ignore "/>" on HTML elements other than void ones;
	// only SVG and MathML elements really close themselves.
	open := !voidElement(a) && (!selfClosing || a != atom.Svg && a != atom.Math)
	if x.skipDepth > 0 {
		if open && string(name) == x.skipTag {
			x.skipDepth++
		}
		return
	}
	if open && x.drop(a, attrs) {
		x.skipTag, x.skipDepth = string(name), 1
		return
	}
	x.start(a, open)
}

// endTag handles an end tag named name (lower case).
func (x *htmlExtractor) endTag(name []byte) {
	if x.skipDepth > 0 {
		if string(name) == x.skipTag {
			x.skipDepth--
		}
		return
	}
	x.end(atom.Lookup(name))
}

// each calls fn for every document the current text belongs to.
func (x *htmlExtractor) each(fn func(*htmlDoc)) {
	fn(&x.all)
	if x.mainDepth > 0 {
		fn(&x.main)
	}
}

// drop decides whether an element and everything inside it is left out.
func (x *htmlExtractor) drop(a atom.Atom, attrs attrFunc) bool {
	switch a {
	case atom.Script, atom.Style, atom.Noscript, atom.Template, atom.Svg, atom.Iframe,
		atom.Object, atom.Canvas, atom.Audio, atom.Video, atom.Noembed, atom.Noframes,
		atom.Select, atom.Textarea, atom.Button, atom.Datalist:
		return true
	}
	if x.lenient {
		return false
	}
	switch a {
	case atom.Nav, atom.Footer, atom.Aside, atom.Form, atom.Dialog, atom.Menu:
		return true
	case atom.Header:
		return x.mainDepth == 0 // an <article>'s own <header> holds its title
	}
	for {
		key, val, ok := attrs()
		if !ok {
			return false
		}
		if hiddenAttr(string(key), string(val)) {
			return true
		}
	}
}

// hiddenAttr reports whether an attribute marks its element as invisible or
// as page furniture (navigation, banners, search boxes).
func hiddenAttr(key, val string) bool {
	switch key {
	case "hidden":
		return true
	case "aria-hidden":
		return strings.EqualFold(strings.TrimSpace(val), "true")
	case "role":
		switch strings.ToLower(strings.TrimSpace(val)) {
		case "navigation", "banner", "contentinfo", "complementary", "search",
			"menu", "menubar", "toolbar", "dialog", "alertdialog":
			return true
		}
	case "style":
		v := strings.ToLower(strings.Join(strings.Fields(val), ""))
		return strings.Contains(v, "display:none") || strings.Contains(v, "visibility:hidden")
	}
	return false
}

// start handles a start tag of an element that is not dropped. open is
// false for void and self-closed elements.
func (x *htmlExtractor) start(a atom.Atom, open bool) {
	switch a {
	case atom.Title:
		if open && !x.titleDone {
			x.inTitle = true
		}
	case atom.Main, atom.Article:
		if open {
			x.mainDepth++
		}
		x.each(func(d *htmlDoc) { d.brk(2) })
	case atom.H1, atom.H2, atom.H3:
		level := int(a.String()[1] - '0')
		x.each(func(d *htmlDoc) { d.startHeading(level) })
	case atom.Pre, atom.Listing, atom.Xmp, atom.Plaintext:
		if open {
			x.preDepth++
		}
		x.each(func(d *htmlDoc) { d.brk(2); d.preStart = true })
	case atom.Li:
		x.each(func(d *htmlDoc) { d.endHeadingIfText(); d.brk(1); d.prefix = "- " })
	case atom.Td, atom.Th:
		x.each(func(d *htmlDoc) { d.cell = true })
	case atom.Br:
		x.each(func(d *htmlDoc) { d.newline() })
	default:
		if n := blockBreaks(a); n > 0 {
			x.each(func(d *htmlDoc) { d.endHeadingIfText(); d.brk(n) })
		}
	}
}

// end handles an end tag outside dropped elements.
func (x *htmlExtractor) end(a atom.Atom) {
	switch a {
	case atom.Title:
		if x.inTitle {
			x.inTitle = false
			x.titleDone = strings.TrimSpace(x.title.String()) != ""
			if !x.titleDone {
				x.title.Reset()
			}
		}
	case atom.Main, atom.Article:
		x.each(func(d *htmlDoc) { d.brk(2) })
		if x.mainDepth > 0 {
			x.mainDepth--
		}
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		x.each(func(d *htmlDoc) { d.endHeading(); d.brk(2) })
	case atom.Pre, atom.Listing, atom.Xmp:
		if x.preDepth > 0 {
			x.preDepth--
		}
		x.each(func(d *htmlDoc) { d.brk(2) })
	case atom.Br: // browsers read </br> as <br>
		x.each(func(d *htmlDoc) { d.newline() })
	case atom.Li:
		x.each(func(d *htmlDoc) { d.brk(1); d.prefix = "" })
	default:
		if n := blockBreaks(a); n > 0 {
			x.each(func(d *htmlDoc) { d.brk(n) })
		}
	}
}

// blockBreaks says how many line breaks an element's start and end make:
// 2 (a blank line) for paragraph-like blocks, 1 for other blocks, 0 for
// inline elements.
func blockBreaks(a atom.Atom) int {
	switch a {
	case atom.P, atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Ul, atom.Ol, atom.Dl,
		atom.Table, atom.Figure, atom.Hr, atom.Section, atom.Address, atom.Details,
		atom.Fieldset, atom.Center, atom.Body, atom.Html:
		return 2
	case atom.Div, atom.Li, atom.Dt, atom.Dd, atom.Tr, atom.Caption, atom.Figcaption,
		atom.Summary, atom.Legend, atom.Header, atom.Footer, atom.Nav, atom.Aside,
		atom.Form, atom.Thead, atom.Tbody, atom.Tfoot, atom.Option, atom.Dialog, atom.Menu,
		atom.Hgroup, atom.Search:
		return 1
	}
	return 0
}

// voidElement reports whether an element never has content or an end tag.
func voidElement(a atom.Atom) bool {
	switch a {
	case atom.Area, atom.Base, atom.Br, atom.Col, atom.Embed, atom.Hr, atom.Img, atom.Input,
		atom.Keygen, atom.Link, atom.Meta, atom.Param, atom.Source, atom.Track, atom.Wbr:
		return true
	}
	return false
}

// htmlDoc accumulates text as sections, collapsing whitespace the way a
// browser renders it.
type htmlDoc struct {
	sections []rawSection
	firstH1  string
	size     int // bytes of text kept, for comparing documents

	// The section being built.
	level   int
	heading string
	text    strings.Builder
	hasBody bool

	inHeading   bool
	headingText strings.Builder

	// Whitespace owed before the next visible character.
	breaks   int    // line breaks: 1 or 2
	newlines int    // newlines at the end of text (from <pre>), which count as breaks
	space    bool   // a space
	cell     bool   // a table-cell separator
	prefix   string // a list-item marker
	preStart bool   // the next text opens a <pre> (its first newline is dropped)
}

// brk asks for at least n line breaks before the next text.
func (d *htmlDoc) brk(n int) {
	d.breaks = max(d.breaks, n)
	d.space, d.cell = false, false
	if d.inHeading && d.headingText.Len() > 0 && d.headingText.Len() < maxHeadingTextBytes {
		d.headingText.WriteByte(' ') // "Foo<br>Bar" is the heading "Foo Bar"
	}
}

// newline is a <br>: unlike brk, several of them add up to a blank line.
func (d *htmlDoc) newline() {
	d.brk(min(d.breaks+1, 2))
}

// startHeading closes the current section and opens one for an h1–h3.
func (d *htmlDoc) startHeading(level int) {
	d.endHeading()
	d.flush()
	d.level, d.heading, d.hasBody = level, "", false
	d.inHeading = true
	d.headingText.Reset()
}

// endHeading finishes the heading being collected, if any.
func (d *htmlDoc) endHeading() {
	if !d.inHeading {
		return
	}
	d.inHeading = false
	d.heading = CleanLine(d.headingText.String(), MaxTitleRunes)
	if d.level == 1 && d.firstH1 == "" {
		d.firstH1 = d.heading
	}
}

// endHeadingIfText ends a heading at a block inside it, once the heading has
// text, so that an unclosed heading does not swallow the page.
func (d *htmlDoc) endHeadingIfText() {
	if d.inHeading && strings.TrimSpace(d.headingText.String()) != "" {
		d.endHeading()
		d.brk(2)
	}
}

// flush appends the current section to sections.
func (d *htmlDoc) flush() {
	d.endHeading()
	if d.text.Len() > 0 {
		d.sections = append(d.sections, rawSection{
			level:   d.level,
			heading: d.heading,
			text:    d.text.String(),
			hasBody: d.hasBody,
		})
	}
	d.text.Reset()
	d.breaks, d.newlines, d.space, d.cell, d.prefix = 0, 0, false, false, ""
}

// write adds a text token's content. Outside <pre>, whitespace collapses.
func (d *htmlDoc) write(text []byte, pre bool) {
	if pre {
		if d.preStart && len(text) > 0 && text[0] == '\n' {
			text = text[1:]
		}
		d.preStart = false
		for len(text) > 0 {
			r, n := utf8.DecodeRune(text)
			text = text[n:]
			if r != '\n' && r != '\t' && isControl(r) {
				continue
			}
			if r == '\n' {
				d.owe()
				d.text.WriteByte('\n')
				d.newlines++
				continue
			}
			d.put(r)
		}
		return
	}
	for len(text) > 0 {
		r, n := utf8.DecodeRune(text)
		text = text[n:]
		switch {
		case unicode.IsSpace(r):
			if d.text.Len() > 0 && d.breaks == 0 {
				d.space = true
			}
			if d.inHeading && d.headingText.Len() > 0 && d.headingText.Len() < maxHeadingTextBytes {
				d.headingText.WriteByte(' ')
			}
		case isControl(r), isInvisible(r):
		default:
			d.put(r)
		}
	}
}

// owe writes the whitespace owed before the next character.
func (d *htmlDoc) owe() {
	if d.text.Len() > 0 {
		switch {
		case d.breaks > d.newlines:
			d.text.WriteString("\n\n"[:d.breaks-d.newlines])
		case d.breaks > 0:
		case d.cell:
			d.text.WriteString(" | ")
		case d.space:
			d.text.WriteByte(' ')
		}
	}
	d.text.WriteString(d.prefix)
	d.breaks, d.space, d.cell, d.prefix = 0, false, false, ""
}

// put writes one visible character, paying whitespace owed first.
func (d *htmlDoc) put(r rune) {
	d.owe()
	d.text.WriteRune(r)
	d.newlines = 0
	d.size += utf8.RuneLen(r)
	switch {
	case d.inHeading:
		if d.headingText.Len() < maxHeadingTextBytes {
			d.headingText.WriteRune(r)
		}
	case !unicode.IsSpace(r):
		d.hasBody = true
	}
}
