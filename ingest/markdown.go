package ingest

import (
	"context"
	"strings"
)

// maxHeadingBytes caps how much of a heading line is cleaned for its text.
const maxHeadingBytes = 2048

// parseMarkdown handles TypeMarkdown. The text stays Markdown (it reads well
// as it is) but loses its front matter, HTML comments and HTML-only lines;
// it is cut into sections at ATX and setext headings outside code blocks.
func parseMarkdown(ctx context.Context, data []byte) (Parsed, error) {
	text, err := utf8Text(ctx, data)
	if err != nil {
		return Parsed{}, err
	}
	lines, fmTitle := stripFrontMatter(strings.Split(text, "\n"))

	m := mdState{setext: -1}
	for i, line := range lines {
		if i%checkEvery == 0 {
			if err := ctxErr(ctx); err != nil {
				return Parsed{}, err
			}
		}
		m.line(line)
	}
	m.flush()

	title := m.h1
	if title == "" {
		title = fmTitle
	}
	if title == "" {
		title = m.firstLine
	}
	return Parsed{Title: title, Sections: finishSections(m.sections)}, nil
}

// mdState is parseMarkdown's line-by-line state.
type mdState struct {
	sections []rawSection

	// The section being built.
	level   int
	heading string
	lines   []string
	hasBody bool

	fenceChar byte // '`' or '~' while inside a fenced code block
	fenceLen  int  // length of the opening fence; 0 outside code blocks
	inComment bool // inside a multi-line <!-- comment -->

	// setext is the index in lines of a one-line paragraph that a setext
	// underline (=== or ---) on the next line would turn into a heading, or -1.
	setext int

	h1        string // the first level-1 heading's text
	firstLine string // the first line of text, cleaned, for a title of last resort
}

// line consumes one line of the document.
func (m *mdState) line(line string) {
	if m.fenceLen > 0 {
		m.add(line, false)
		if isFenceClose(line, m.fenceChar, m.fenceLen) {
			m.fenceLen = 0
		}
		return
	}
	if m.inComment || strings.Contains(line, "<!--") {
		line, m.inComment = stripComments(line, m.inComment)
		if strings.TrimSpace(line) == "" {
			return // a line that was only a comment vanishes
		}
	}
	if ch, n, ok := fenceOpen(line); ok {
		m.fenceChar, m.fenceLen = ch, n
		m.add(line, false)
		return
	}
	if level, text, ok := atxHeading(line); ok {
		m.startSection(level, text, strings.TrimSpace(line))
		return
	}
	if level, ok := setextUnderline(line); ok && m.setext >= 0 && m.setext == len(m.lines)-1 {
		text := m.lines[m.setext]
		m.lines = m.lines[:m.setext]
		m.hasBody = m.countBody()
		m.startSection(level, text, strings.Repeat("#", level)+" "+strings.TrimSpace(text))
		return
	}
	if isHTMLLine(line) {
		line = stripTags(line)
		if strings.TrimSpace(line) == "" {
			return
		}
		m.add(line, false)
		return
	}
	m.add(line, isPlainLine(line))
}

// add appends a line to the current section. plain says whether the line
// could be the text of a setext heading.
func (m *mdState) add(line string, plain bool) {
	blank := strings.TrimSpace(line) == ""
	if plain && (len(m.lines) == 0 || strings.TrimSpace(m.lines[len(m.lines)-1]) == "" || m.level > 0 && len(m.lines) == 1) {
		m.setext = len(m.lines)
	} else {
		m.setext = -1
	}
	m.lines = append(m.lines, line)
	if !blank {
		m.hasBody = true
		if m.firstLine == "" {
			m.firstLine = CleanLine(cleanInline(strings.TrimLeft(strings.TrimSpace(line), "#>*-+ ")), MaxTitleRunes)
		}
	}
}

// countBody reports whether the current section has text besides its heading.
func (m *mdState) countBody() bool {
	start := 0
	if m.level > 0 {
		start = 1
	}
	for _, l := range m.lines[min(start, len(m.lines)):] {
		if strings.TrimSpace(l) != "" {
			return true
		}
	}
	return false
}

// startSection closes the current section and opens one for a heading.
func (m *mdState) startSection(level int, rawText, headingLine string) {
	m.flush()
	text := CleanLine(cleanInline(rawText), MaxTitleRunes)
	if level == 1 && m.h1 == "" {
		m.h1 = text
	}
	if m.firstLine == "" {
		m.firstLine = text
	}
	m.level, m.heading, m.lines, m.hasBody = level, text, []string{headingLine}, false
	m.setext = -1
}

// flush appends the current section, if any, to sections.
func (m *mdState) flush() {
	if len(m.lines) == 0 {
		return
	}
	m.sections = append(m.sections, rawSection{
		level:   m.level,
		heading: m.heading,
		text:    strings.Join(m.lines, "\n"),
		hasBody: m.hasBody,
	})
	m.lines = nil
}

// stripFrontMatter removes a leading YAML (---) or TOML (+++) front matter
// block and returns the rest, with the block's title if it has one.
func stripFrontMatter(lines []string) ([]string, string) {
	if len(lines) < 2 || lines[0] != "---" && lines[0] != "+++" {
		return lines, ""
	}
	delim := lines[0]
	for j := 1; j < len(lines); j++ {
		if lines[j] != delim && (delim != "---" || lines[j] != "...") {
			continue
		}
		block := lines[1:j]
		if !looksLikeFrontMatter(block) {
			return lines, ""
		}
		return lines[j+1:], frontMatterTitle(block)
	}
	return lines, ""
}

// looksLikeFrontMatter reports whether a block between two --- lines is
// key/value front matter rather than text between two horizontal rules.
func looksLikeFrontMatter(block []string) bool {
	for _, l := range block {
		t := strings.TrimSpace(l)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		return strings.ContainsAny(t, ":=")
	}
	return true
}

// frontMatterTitle finds "title: x" (YAML) or "title = x" (TOML).
func frontMatterTitle(block []string) string {
	for _, l := range block {
		key, val, ok := strings.Cut(l, ":")
		if !ok || strings.ContainsAny(key, "=") {
			key, val, ok = strings.Cut(l, "=")
		}
		if !ok || !strings.EqualFold(strings.TrimSpace(key), "title") || key != strings.TrimLeft(key, " \t") {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
			val = val[1 : len(val)-1]
		}
		return CleanLine(val, MaxTitleRunes)
	}
	return ""
}

// indent returns the number of leading spaces of line and the rest.
func indent(line string) (int, string) {
	t := strings.TrimLeft(line, " ")
	return len(line) - len(t), t
}

// fenceOpen recognises the opening line of a fenced code block.
func fenceOpen(line string) (byte, int, bool) {
	n, t := indent(line)
	if n > 3 || len(t) < 3 || t[0] != '`' && t[0] != '~' {
		return 0, 0, false
	}
	ch := t[0]
	k := len(t) - len(strings.TrimLeft(t, string(ch)))
	if k < 3 || ch == '`' && strings.Contains(t[k:], "`") {
		return 0, 0, false
	}
	return ch, k, true
}

// isFenceClose recognises the line closing a fenced code block.
func isFenceClose(line string, ch byte, n int) bool {
	k, t := indent(line)
	if k > 3 {
		return false
	}
	rest := strings.TrimLeft(t, string(ch))
	return len(t)-len(rest) >= n && strings.TrimSpace(rest) == ""
}

// atxHeading recognises "## Heading ##" and returns its level and text.
func atxHeading(line string) (int, string, bool) {
	k, t := indent(line)
	if k > 3 {
		return 0, "", false
	}
	n := len(t) - len(strings.TrimLeft(t, "#"))
	if n < 1 || n > 6 {
		return 0, "", false
	}
	rest := t[n:]
	if rest != "" && rest[0] != ' ' && rest[0] != '\t' {
		return 0, "", false
	}
	rest = strings.TrimSpace(rest)
	if closed := strings.TrimRight(rest, "#"); closed == "" {
		rest = ""
	} else if closed != rest && (strings.HasSuffix(closed, " ") || strings.HasSuffix(closed, "\t")) {
		rest = strings.TrimSpace(closed)
	}
	return n, rest, true
}

// setextUnderline recognises "===" (level 1) and "---" (level 2) lines.
func setextUnderline(line string) (int, bool) {
	k, t := indent(line)
	t = strings.TrimRight(t, " \t")
	if k > 3 || len(t) < 2 || t[0] != '=' && t[0] != '-' || strings.Trim(t, t[:1]) != "" {
		return 0, false
	}
	if t[0] == '=' {
		return 1, true
	}
	return 2, true
}

// isPlainLine reports whether line is ordinary paragraph text: not a list
// item, quote, table row, indented code or thematic break.
func isPlainLine(line string) bool {
	k, t := indent(line)
	if k > 3 || t == "" {
		return false
	}
	switch t[0] {
	case '>', '|', '-', '*', '+', '=', '_', '<':
		return false
	}
	// "1. item" and "1) item"
	d := len(t) - len(strings.TrimLeft(t, "0123456789"))
	if d > 0 && d < len(t) && (t[d] == '.' || t[d] == ')') {
		return false
	}
	return true
}

// isHTMLLine reports whether line (outside code) starts with an HTML tag,
// like the <p align="center"> and <img> lines at the top of many READMEs.
func isHTMLLine(line string) bool {
	k, t := indent(line)
	return k <= 3 && tagLen(t) != 0
}

// tagLen returns the length of the HTML tag at the start of s, 0 when s
// does not start with one, and -1 when no '>' follows at all (so no later
// tag can end either). Autolinks such as <https://x> are not tags.
func tagLen(s string) int {
	if len(s) < 3 || s[0] != '<' {
		return 0
	}
	i := 1
	if s[i] == '/' {
		i++
	}
	start := i
	for i < len(s) && (isASCIILetter(s[i]) || i > start && (s[i] == '-' || s[i] >= '0' && s[i] <= '9')) {
		i++
	}
	if i == start || i == len(s) {
		return 0
	}
	switch s[i] {
	case '>', ' ', '\t', '/':
	default:
		return 0
	}
	end := strings.IndexByte(s[i:], '>')
	if end < 0 {
		return -1
	}
	return i + end + 1
}

// isASCIILetter reports whether c is a-z or A-Z.
func isASCIILetter(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// stripTags removes HTML tags from a line, keeping the text between them.
func stripTags(line string) string {
	var b strings.Builder
	b.Grow(len(line))
	for i := 0; i < len(line); {
		if line[i] == '<' {
			n := tagLen(line[i:])
			if n < 0 {
				b.WriteString(line[i:])
				break
			}
			if n > 0 {
				i += n
				continue
			}
		}
		b.WriteByte(line[i])
		i++
	}
	return b.String()
}

// stripComments removes <!-- comments --> from a line; inComment says the
// line starts inside one, and the result says whether it ends inside one.
func stripComments(line string, inComment bool) (string, bool) {
	var b strings.Builder
	for line != "" {
		if inComment {
			end := strings.Index(line, "-->")
			if end < 0 {
				return b.String(), true
			}
			line, inComment = line[end+3:], false
			continue
		}
		start := strings.Index(line, "<!--")
		if start < 0 {
			b.WriteString(line)
			break
		}
		b.WriteString(line[:start])
		line, inComment = line[start+4:], true
	}
	return b.String(), inComment
}

// cleanInline reduces Markdown inline markup to its text, for headings and
// titles: links and images become their text, code spans, emphasis markers
// and HTML tags go. It runs in linear time whatever the input.
func cleanInline(s string) string {
	if len(s) > maxHeadingBytes {
		s = s[:maxHeadingBytes] // CleanLine drops a rune cut in half
	}
	var b strings.Builder
	b.Grow(len(s))
	noParen, noBracket, noTag := false, false, false // nothing left to find: stop looking
	for i := 0; i < len(s); {
		c := s[i]
		next := byte(0)
		if i+1 < len(s) {
			next = s[i+1]
		}
		switch {
		case c == '\\' && isASCIIPunct(next):
			b.WriteByte(next)
			i += 2
			continue
		case c == '`', c == '[', c == '!' && next == '[':
			i++
			continue
		case (c == '*' || c == '_') && next == c:
			i += 2
			continue
		case c == ']' && next == '(' && !noParen:
			if end := strings.IndexByte(s[i+2:], ')'); end >= 0 {
				i += 2 + end + 1 // drop the link's URL
				continue
			}
			noParen = true
		case c == ']' && next == '[' && !noBracket:
			if end := strings.IndexByte(s[i+2:], ']'); end >= 0 {
				i += 2 + end + 1 // drop the reference label
				continue
			}
			noBracket = true
		case c == ']':
			i++
			continue
		case c == '<' && !noTag:
			n := tagLen(s[i:])
			if n > 0 {
				i += n
				continue
			}
			noTag = n < 0
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}

// isASCIIPunct reports whether c is ASCII punctuation (escapable in Markdown).
func isASCIIPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}
