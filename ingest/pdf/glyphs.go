package pdf

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	pdflib "github.com/ledongthuc/pdf"
)

// This file decodes glyph names, from a simple font's /Differences or the
// encoding built into an embedded Type 1 program, to text.

// applyDifferences overlays an encoding's Differences array on f.text. The
// glyph names are decoded through the library's glyph list (by asking its
// encoder for the codes the array names), with uniXXXX names and a few
// others decoded here.
func applyDifferences(f *font, fv pdflib.Value, diffs pdflib.Value) {
	n := diffs.Len()
	if n == 0 {
		return
	}
	type entry struct {
		code byte
		name string
	}
	var entries []entry
	code := -1
	for i := 0; i < n && i < maxDifferences*2; i++ {
		x := diffs.Index(i)
		switch x.Kind() {
		case pdflib.Integer:
			code = int(x.Int64())
		case pdflib.Name:
			if code >= 0 && code < 256 {
				entries = append(entries, entry{byte(code), x.Name()})
			}
			code++
		}
	}
	if len(entries) == 0 {
		return
	}
	// Ask the library's encoder (which holds the Adobe glyph list) for all
	// named codes at once: it returns one rune per byte, the byte itself when
	// it does not know the name.
	var lib []rune
	if n <= maxDifferences {
		raw := make([]byte, len(entries))
		for i, e := range entries {
			raw[i] = e.code
		}
		font := pdflib.Font{V: fv}
		if enc := font.Encoder(); enc != nil {
			lib = []rune(enc.Decode(string(raw)))
		}
	}
	seen := [256]bool{}
	for i, e := range entries {
		if seen[e.code] { // the first entry for a code wins, as in the library
			continue
		}
		seen[e.code] = true
		if s, ok := glyphText(e.name); ok {
			f.text[e.code] = s
			continue
		}
		if len(lib) == len(entries) && lib[i] != rune(e.code) {
			f.text[e.code] = string(lib[i])
			continue
		}
		// Unknown name: keep the base encoding's text for printable ASCII
		// (names like /a or /one map to themselves), else drop the glyph.
		if e.code < 0x20 || e.code >= 0x7F {
			f.text[e.code] = ""
		}
	}
}

// maxType1Clear bounds how much of a Type 1 program is read for its
// encoding (it sits in the clear-text part, before the encrypted one).
const maxType1Clear = 64 << 10

// applyBuiltinEncoding overlays the encoding a Type 1 font program
// declares ("dup 58 /period put" lines) on f.text.
func applyBuiltinEncoding(f *font, ff pdflib.Value) {
	n := ff.Key("Length1").Int64()
	if n <= 0 || n > maxType1Clear {
		n = maxType1Clear
	}
	head, err := io.ReadAll(io.LimitReader(ff.Reader(), n))
	if err != nil && len(head) == 0 {
		return
	}
	i := bytes.Index(head, []byte("/Encoding"))
	if i < 0 {
		return
	}
	head = head[i:]
	if end := bytes.Index(head, []byte("readonly def")); end >= 0 {
		head = head[:end]
	} else if end := bytes.Index(head, []byte(" def")); end >= 0 && bytes.Contains(head[:end], []byte("StandardEncoding")) {
		return // the standard encoding, which f already has
	}
	var codes []byte
	var names []string
	for _, line := range bytes.Split(head, []byte("dup ")) {
		fields := bytes.Fields(line)
		if len(fields) < 3 || string(fields[2]) != "put" || len(fields[1]) < 2 || fields[1][0] != '/' {
			continue
		}
		c, err := strconv.Atoi(string(fields[0]))
		if err != nil || c < 0 || c > 255 {
			continue
		}
		codes = append(codes, byte(c))
		names = append(names, string(fields[1][1:]))
	}
	for i, r := range glyphRunes(names) {
		if r >= 0 {
			f.text[codes[i]] = string(r)
		}
	}
	for i, name := range names {
		if s, ok := glyphText(name); ok {
			f.text[codes[i]] = s
		}
	}
}

// glyphRunes looks glyph names up in the library's copy of the Adobe glyph
// list, which it only exposes through a font's /Differences: it builds a
// tiny PDF whose font names them all and decodes one code per name. -1
// marks names the list lacks.
func glyphRunes(names []string) []rune {
	out := make([]rune, len(names))
	for i := range out {
		out[i] = -1
	}
	if len(names) == 0 || len(names) > 256 {
		return out
	}
	var diffs strings.Builder
	codes := make([]byte, len(names))
	for i, name := range names {
		diffs.WriteString(" /")
		for _, c := range []byte(name) {
			if c <= ' ' || c >= 0x7F || c == '#' || isDelim(c) {
				fmt.Fprintf(&diffs, "#%02X", c)
			} else {
				diffs.WriteByte(c)
			}
		}
		codes[i] = byte(i)
	}
	obj := "<< /Type /Font /Encoding << /Differences [0" + diffs.String() + "] >> >>"
	var doc bytes.Buffer
	doc.WriteString("%PDF-1.4\n")
	off := doc.Len()
	fmt.Fprintf(&doc, "1 0 obj\n%s\nendobj\n", obj)
	xref := doc.Len()
	fmt.Fprintf(&doc, "xref\n0 2\n0000000000 65535 f \n%010d 00000 n \ntrailer\n<< /Size 2 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", off, xref)
	r, err := pdflib.NewReader(bytes.NewReader(doc.Bytes()), int64(doc.Len()))
	if err != nil {
		return out
	}
	font := pdflib.Font{V: r.Trailer().Key("Root")}
	enc := font.Encoder()
	if enc == nil {
		return out
	}
	runes := []rune(enc.Decode(string(codes)))
	if len(runes) != len(names) {
		return out
	}
	for i, r := range runes {
		if r != rune(i) { // the library returns the code itself for names it does not know
			out[i] = r
		}
	}
	return out
}

// glyphText decodes glyph names the library's list lacks or gets unhelpfully
// (ligatures come out as their letters, which is what search wants).
func glyphText(name string) (string, bool) {
	if base, _, ok := strings.Cut(name, "."); ok && base != "" {
		name = base // a.sc, one.oldstyle
	}
	switch name {
	case "ff":
		return "ff", true
	case "fi":
		return "fi", true
	case "fl":
		return "fl", true
	case "ffi":
		return "ffi", true
	case "ffl":
		return "ffl", true
	case "space", "nbspace", "nonbreakingspace":
		return " ", true
	case ".notdef", "notdef":
		return "", true
	}
	if strings.Contains(name, "_") { // f_f_i: a ligature of the named glyphs
		var b strings.Builder
		for _, part := range strings.Split(name, "_") {
			s, ok := glyphText(part)
			if !ok {
				if len(part) != 1 {
					return "", false
				}
				s = part
			}
			b.WriteString(s)
		}
		return b.String(), true
	}
	if strings.HasPrefix(name, "uni") && len(name) >= 7 && (len(name)-3)%4 == 0 {
		var units []uint16
		for i := 3; i < len(name); i += 4 {
			v, err := strconv.ParseUint(name[i:i+4], 16, 16)
			if err != nil {
				return "", false
			}
			units = append(units, uint16(v))
		}
		return cleanRunes(string(utf16.Decode(units))), true
	}
	if name[0] == 'u' && len(name) >= 5 && len(name) <= 7 {
		if v, err := strconv.ParseUint(name[1:], 16, 32); err == nil && utf8.ValidRune(rune(v)) {
			return string(rune(v)), true
		}
	}
	if len(name) == 1 && (name[0] >= 'A' && name[0] <= 'Z' || name[0] >= 'a' && name[0] <= 'z') {
		return name, true
	}
	return "", false
}

// cleanRunes drops U+FFFD from decoded text.
func cleanRunes(s string) string {
	return strings.ReplaceAll(s, "\uFFFD", "")
}
