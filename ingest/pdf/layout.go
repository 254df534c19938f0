package pdf

import (
	"math"
	"unicode"
	"unicode/utf8"
)

// This file lays out the text of one page from the geometry of the
// strings drawn (a gap wider than a fraction of the font size breaks a
// word; a move of the baseline breaks a line or a paragraph), then cleans
// the result up.

// pageText accumulates a page's text and the geometry of the last string.
type pageText struct {
	b        []byte
	max      int  // bytes allowed
	full     bool // max was reached
	has      bool
	ex, ey   float64 // where the last string ended
	dx, dy   float64 // its baseline direction
	sx, sy   float64 // where it started
	size     float64 // its font size
	lastSize float64 // font size of the last line break's line, for paragraph gaps
}

// add appends one drawn string, first inserting the space, line break or
// paragraph break that the geometry implies.
func (p *pageText) add(s []byte, sx, sy, ex, ey, dx, dy, size float64) {
	if p.full {
		return
	}
	if !finite(sx) || !finite(sy) || !finite(ex) || !finite(ey) || !finite(size) {
		sx, sy, ex, ey, size = p.ex, p.ey, p.ex, p.ey, p.size
	}
	if p.has {
		p.separate(s, sx, sy, dx, dy, size)
	}
	if len(p.b)+len(s) > p.max {
		p.full = true
		return
	}
	p.b = append(p.b, s...)
	p.has = true
	p.sx, p.sy, p.ex, p.ey, p.dx, p.dy, p.size = sx, sy, ex, ey, dx, dy, size
}

// separate writes what goes between the previous string and one starting
// at (sx, sy) with baseline direction (dx, dy) and font size size.
func (p *pageText) separate(s []byte, sx, sy, dx, dy, size float64) {
	ref := min(size, p.size)
	if ref <= 0.01 {
		ref = max(size, p.size, 1)
	}
	vx, vy := sx-p.ex, sy-p.ey
	along := vx*p.dx + vy*p.dy
	across := vy*p.dx - vx*p.dy // positive: the new string sits above the old baseline
	sameDir := dx*p.dx+dy*p.dy > 0.95
	switch {
	case !sameDir || math.Abs(across) > 0.6*ref || along < -4*ref:
		p.newline()
		if sameDir && across < -2.0*max(size, p.size) {
			p.newline() // a wide vertical gap: a paragraph or block break
		}
	case along > 0.15*ref:
		p.space(s)
	}
}

// newline ends the current line, unless the text already ends with two.
func (p *pageText) newline() {
	n := len(p.b)
	for n > 0 && p.b[n-1] == ' ' {
		n--
	}
	p.b = p.b[:n]
	if n == 0 || n >= 2 && p.b[n-1] == '\n' && p.b[n-2] == '\n' {
		return
	}
	p.b = append(p.b, '\n')
}

// space adds a word break unless one is already there.
func (p *pageText) space(next []byte) {
	n := len(p.b)
	if n == 0 || p.b[n-1] == ' ' || p.b[n-1] == '\n' || len(next) > 0 && next[0] == ' ' {
		return
	}
	p.b = append(p.b, ' ')
}

// cleanText normalises extracted text: valid UTF-8 only, no NUL or other
// control characters, ligatures spelled out, Unicode spaces made plain,
// runs of spaces collapsed, lines trimmed, at most one blank line in a row,
// and words hyphenated across a line break joined ("exam-\nple" becomes
// "example", as pdftotext does).
func cleanText(b []byte) string {
	out := make([]byte, 0, len(b))
	space, newlines := false, 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == '\n':
			space = false
			newlines++
			continue
		case r == utf8.RuneError, r == 0xFEFF, r == 0xAD, r == 0x200B, r == 0x200C, r == 0x200D, r == 0x2060:
			continue // invalid bytes, BOM, soft hyphen, zero-width characters
		case r == '\t' || r == '\r' || unicode.IsSpace(r):
			space = true
			continue
		case r < 0x20 || r >= 0x7F && r < 0xA0:
			continue
		}
		switch {
		case newlines == 1 && unicode.IsLower(r) && endsWithHyphenatedWord(out):
			out = out[:len(out)-1]
		case newlines > 0 && len(out) > 0:
			out = append(out, "\n\n"[:min(newlines, 2)]...)
		case space && len(out) > 0 && newlines == 0:
			out = append(out, ' ')
		}
		newlines, space = 0, false
		if lig := ligature(r); lig != "" {
			out = append(out, lig...)
		} else {
			out = utf8.AppendRune(out, r)
		}
	}
	return string(out)
}

// endsWithHyphenatedWord reports whether b ends with a letter and a hyphen.
func endsWithHyphenatedWord(b []byte) bool {
	if len(b) < 2 || b[len(b)-1] != '-' {
		return false
	}
	r, _ := utf8.DecodeLastRune(b[:len(b)-1])
	return unicode.IsLetter(r)
}

// ligature spells out the Latin ligatures of U+FB00–U+FB06, "" for others.
func ligature(r rune) string {
	switch r {
	case 0xFB00:
		return "ff"
	case 0xFB01:
		return "fi"
	case 0xFB02:
		return "fl"
	case 0xFB03:
		return "ffi"
	case 0xFB04:
		return "ffl"
	case 0xFB05, 0xFB06:
		return "st"
	}
	return ""
}
