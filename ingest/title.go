package ingest

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxFileTitleRunes caps a title made from a file name.
const maxFileTitleRunes = 200

// MaxTitleRunes caps a title taken from a document's content (an HTML
// <title>, a Markdown heading, a PDF's Info /Title), for parsers in this
// package and its sub-packages alike.
const MaxTitleRunes = 120

// CleanTitle turns a client-supplied file name into a safe display title:
// only the base name (split on both / and \), without NUL, control or
// bidirectional-override characters, whitespace collapsed, at most 200 runes.
// "" stays "". The result is metadata only and must never be used as a path.
func CleanTitle(filename string) string {
	name := strings.TrimRight(filename, `/\`)
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = CleanLine(name, maxFileTitleRunes)
	if name == "." || name == ".." {
		return ""
	}
	return name
}

// CleanLine makes s a one-line display string, for titles and short
// messages taken from untrusted content: invalid UTF-8 replaced, control
// and invisible formatting characters removed, whitespace runs collapsed
// to one space, trimmed, and cut to at most max runes.
func CleanLine(s string, max int) string {
	var b strings.Builder
	b.Grow(min(len(s), max*utf8.UTFMax))
	n := 0
	space := false
	for _, r := range s { // invalid bytes arrive as utf8.RuneError and are dropped below
		switch {
		case unicode.IsSpace(r):
			space = n > 0
			continue
		case r == utf8.RuneError, unicode.IsControl(r), isInvisible(r):
			continue
		}
		if space {
			if n+1 >= max {
				break
			}
			b.WriteByte(' ')
			n++
			space = false
		}
		if n >= max {
			break
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

// isInvisible reports whether r is a formatting character that can make a
// title display differently from what it is (bidirectional overrides, byte
// order marks, zero-width spaces).
func isInvisible(r rune) bool {
	switch {
	case r >= 0x202A && r <= 0x202E, r >= 0x2066 && r <= 0x2069,
		r == 0x200B, r == 0x200E, r == 0x200F, r == 0x061C, r == 0xFEFF:
		return true
	}
	return false
}
