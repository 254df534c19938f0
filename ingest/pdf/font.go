package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	pdflib "github.com/ledongthuc/pdf"
	"golang.org/x/text/encoding/charmap"
)

// font is what text extraction needs of a font: how its codes split,
// what text each code stands for, and how far each advances.
type font struct {
	// Simple (single-byte) fonts.
	text   [256]string  // text of each code
	widths [256]float64 // advance of each code, in text space units per unit of font size

	// Composite (Type0) fonts: two-byte codes unless cmap says otherwise.
	composite bool
	codes     *toUnicode         // the encoding CMap's codespace, when embedded
	uni       *toUnicode         // ToUnicode, when present
	ucs2      bool               // the encoding's codes are UTF-16 (UniGB-UCS2-H and the like)
	identity  bool               // CID = code (Identity-H/V), so /W applies by code
	dw        float64            // default CID width
	cidW      map[uint32]float64 // explicit CID widths
	cidRanges []cidWidthRange
	memo      map[uint32]string // decoded codes
}

// cidWidthRange gives codes first..last one width.
type cidWidthRange struct {
	first, last uint32
	w           float64
}

// Font loading bounds.
const (
	maxDifferences = 4096    // Differences entries decoded through the library
	maxCIDWidths   = 1 << 16 // /W entries kept
	maxFontMemo    = 1 << 16 // decoded composite codes remembered
)

// defaultFont stands in for a missing or unreadable font: Latin-1 text,
// half-em advances.
func defaultFont() *font {
	f := &font{}
	for c := range 256 {
		f.text[c] = latin1Text(byte(c))
		f.widths[c] = 0.5
	}
	f.widths[' '] = 0.25
	return f
}

// latin1Text is the text of a byte read as Latin-1, "" for control bytes.
func latin1Text(c byte) string {
	if c < 0x20 || c >= 0x7F && c < 0xA0 {
		return ""
	}
	return string(rune(c))
}

// loadFont reads a font dictionary. It never fails: whatever cannot be read
// degrades to defaults (a panic inside the library is recovered here, so a
// broken font costs that font's text, not the page).
func loadFont(fv pdflib.Value) (f *font) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, errReadBudget) {
				panic(r) // the whole document is looping, not just this font
			}
			f = defaultFont()
		}
	}()
	if fv.Kind() != pdflib.Dict {
		return defaultFont()
	}
	if fv.Key("Subtype").Name() == "Type0" {
		return loadCompositeFont(fv)
	}
	return loadSimpleFont(fv)
}

// loadSimpleFont reads a Type1, TrueType, MMType1 or Type3 font.
func loadSimpleFont(fv pdflib.Value) *font {
	f := &font{}
	subtype := fv.Key("Subtype").Name()
	base := fv.Key("BaseFont").Name()

	// Base encoding, then Differences, then ToUnicode over both.
	var table *[256]rune
	enc := fv.Key("Encoding")
	switch enc.Kind() {
	case pdflib.Name:
		table = namedEncoding(enc.Name(), subtype)
	case pdflib.Dict:
		table = namedEncoding(enc.Key("BaseEncoding").Name(), subtype)
	default:
		table = namedEncoding("", subtype)
	}
	if isSymbolFont(base) && enc.Kind() != pdflib.Dict {
		table = namedEncoding("Symbol", subtype)
	}
	for c := range 256 {
		if r := table[c]; r != 0 {
			f.text[c] = string(r)
		}
	}
	// An embedded Type 1 font without a named base encoding uses the
	// encoding built into its program (TeX's math fonts draw a period at
	// the code StandardEncoding gives a colon).
	if enc.Kind() == pdflib.Null || enc.Kind() == pdflib.Dict && enc.Key("BaseEncoding").Kind() == pdflib.Null {
		if ff := fv.Key("FontDescriptor").Key("FontFile"); ff.Kind() == pdflib.Stream {
			applyBuiltinEncoding(f, ff)
		}
	}
	if enc.Kind() == pdflib.Dict {
		applyDifferences(f, fv, enc.Key("Differences"))
	}
	if tu := fv.Key("ToUnicode"); tu.Kind() == pdflib.Stream {
		uni := parseCMap(tu.Reader())
		for c := range 256 {
			if s, ok := uni.lookup(uint32(c)); ok {
				f.text[c] = s
			}
		}
	}

	// Widths.
	scale := 0.001
	if subtype == "Type3" {
		if m := fv.Key("FontMatrix"); m.Len() == 6 {
			if a := m.Index(0).Float64(); finite(a) && a != 0 && math.Abs(a) < 1 {
				scale = math.Abs(a)
			}
		}
	}
	missing := 500.0
	if strings.Contains(base, "Courier") {
		missing = 600
	}
	if mw := fv.Key("FontDescriptor").Key("MissingWidth").Float64(); mw > 0 && finite(mw) {
		missing = mw
	}
	for c := range 256 {
		f.widths[c] = missing * scale
	}
	if missing == 500 && fv.Key("Widths").Kind() != pdflib.Array {
		f.widths[' '] = 250 * scale // a guess for the standard 14 fonts
	}
	ws := fv.Key("Widths")
	first := fv.Key("FirstChar").Int64()
	if n := ws.Len(); n > 0 && first >= 0 && first < 256 {
		for i := 0; i < n && int(first)+i < 256; i++ {
			if w := ws.Index(i).Float64(); finite(w) && w >= 0 {
				f.widths[int(first)+i] = w * scale
			}
		}
	}
	return f
}

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

// isSymbolFont reports whether a BaseFont is the standard Symbol font.
func isSymbolFont(base string) bool {
	if _, after, ok := strings.Cut(base, "+"); ok {
		base = after
	}
	return base == "Symbol"
}

// loadCompositeFont reads a Type0 font and its descendant CIDFont.
func loadCompositeFont(fv pdflib.Value) *font {
	f := &font{composite: true, dw: 1000, memo: make(map[uint32]string)}
	enc := fv.Key("Encoding")
	switch enc.Kind() {
	case pdflib.Name:
		name := enc.Name()
		f.identity = name == "Identity-H" || name == "Identity-V"
		f.ucs2 = strings.Contains(name, "UCS2") || strings.Contains(name, "UTF16")
	case pdflib.Stream:
		if m := parseCMap(enc.Reader()); m.hasCodespace() {
			f.codes = m
		}
	}
	if tu := fv.Key("ToUnicode"); tu.Kind() == pdflib.Stream {
		f.uni = parseCMap(tu.Reader())
		if f.codes == nil && f.uni.hasCodespace() && !f.identity && !f.ucs2 {
			f.codes = f.uni
		}
	}
	cid := fv.Key("DescendantFonts").Index(0)
	if dw := cid.Key("DW"); dw.Kind() == pdflib.Integer || dw.Kind() == pdflib.Real {
		if v := dw.Float64(); finite(v) && v >= 0 {
			f.dw = v
		}
	}
	f.loadCIDWidths(cid.Key("W"))
	return f
}

// loadCIDWidths reads a CIDFont's /W array: c [w1 w2 …] and c1 c2 w entries.
func (f *font) loadCIDWidths(w pdflib.Value) {
	n := w.Len()
	for i := 0; i < n && len(f.cidW)+len(f.cidRanges) < maxCIDWidths; {
		first := w.Index(i)
		if first.Kind() != pdflib.Integer || i+1 >= n {
			return
		}
		c := uint32(first.Int64())
		next := w.Index(i + 1)
		if next.Kind() == pdflib.Array {
			if f.cidW == nil {
				f.cidW = make(map[uint32]float64)
			}
			for j := 0; j < next.Len() && len(f.cidW) < maxCIDWidths; j++ {
				f.cidW[c+uint32(j)] = next.Index(j).Float64()
			}
			i += 2
			continue
		}
		if i+2 >= n {
			return
		}
		last := uint32(next.Int64())
		f.cidRanges = append(f.cidRanges, cidWidthRange{c, last, w.Index(i + 2).Float64()})
		i += 3
	}
}

// cidWidth returns the advance of code in a composite font, in text space
// units per unit of font size.
func (f *font) cidWidth(code uint32) float64 {
	w := f.dw
	if f.identity {
		if v, ok := f.cidW[code]; ok {
			w = v
		} else {
			for _, r := range f.cidRanges {
				if code >= r.first && code <= r.last {
					w = r.w
					break
				}
			}
		}
	}
	if !finite(w) || w < 0 {
		w = 0
	}
	return w * 0.001
}

// decodeComposite returns the text of one code of a composite font.
func (f *font) decodeComposite(code uint32, n int) string {
	if s, ok := f.memo[code]; ok {
		return s
	}
	var s string
	switch {
	case f.uni != nil:
		if t, ok := f.uni.lookup(code); ok {
			s = t
		}
	case f.ucs2 && n == 2:
		s = utf16Text([]byte{byte(code >> 8), byte(code)})
	}
	if len(f.memo) < maxFontMemo {
		f.memo[code] = s
	}
	return s
}

// nextCode splits the next code off b for a composite font: its value and
// byte length.
func (f *font) nextCode(b []byte) (uint32, int) {
	n := 2
	if f.codes != nil {
		if l := f.codes.codeLength(b); l > 0 {
			n = l
		} else {
			n = 1
		}
	}
	if n > len(b) {
		n = len(b)
	}
	return codeValue(b[:n]), n
}

// namedEncoding returns a base encoding table; "" picks the default for
// the font type.
func namedEncoding(name, subtype string) *[256]rune {
	var t [256]rune
	switch name {
	case "WinAnsiEncoding":
		fillCharmap(&t, charmap.Windows1252)
	case "MacRomanEncoding", "MacExpertEncoding":
		fillCharmap(&t, charmap.Macintosh)
	case "Symbol":
		fillSymbol(&t)
	case "PDFDocEncoding":
		fillPDFDoc(&t)
	default:
		if subtype == "TrueType" {
			fillCharmap(&t, charmap.Windows1252)
		} else {
			fillStandard(&t)
		}
	}
	return &t
}

// fillCharmap fills t from a single-byte character map, leaving control
// codes and undefined bytes empty.
func fillCharmap(t *[256]rune, cm *charmap.Charmap) {
	for c := 0x20; c < 256; c++ {
		if r := cm.DecodeByte(byte(c)); r != utf8.RuneError && r >= 0x20 && (r < 0x7F || r >= 0xA0) {
			t[c] = r
		}
	}
}

// fillStandard fills t with Adobe's StandardEncoding.
func fillStandard(t *[256]rune) {
	for c := 0x20; c < 0x7F; c++ {
		t[c] = rune(c)
	}
	t[0x27], t[0x60] = '\u2019', '\u2018'
	for i := 0; i+1 < len(standardHigh); i += 2 {
		t[standardHigh[i]] = standardHigh[i+1]
	}
}

// standardHigh is StandardEncoding above 0x7F as code, rune pairs. It is a
// constant table: never written.
var standardHigh = [...]rune{
	0xA1, '¡', 0xA2, '¢', 0xA3, '£', 0xA4, '⁄', 0xA5, '¥', 0xA6, 'ƒ', 0xA7, '§', 0xA8, '¤',
	0xA9, '\'', 0xAA, '“', 0xAB, '«', 0xAC, '‹', 0xAD, '›', 0xAE, 'ﬁ', 0xAF, 'ﬂ', 0xB1, '–',
	0xB2, '†', 0xB3, '‡', 0xB4, '·', 0xB6, '¶', 0xB7, '•', 0xB8, '‚', 0xB9, '„', 0xBA, '”',
	0xBB, '»', 0xBC, '…', 0xBD, '‰', 0xBF, '¿', 0xC1, '`', 0xC2, '´', 0xC3, 'ˆ', 0xC4, '˜',
	0xC5, '¯', 0xC6, '˘', 0xC7, '˙', 0xC8, '¨', 0xCA, '˚', 0xCB, '¸', 0xCD, '˝', 0xCE, '˛',
	0xCF, 'ˇ', 0xD0, '—', 0xE1, 'Æ', 0xE3, 'ª', 0xE8, 'Ł', 0xE9, 'Ø', 0xEA, 'Œ', 0xEB, 'º',
	0xF1, 'æ', 0xF5, 'ı', 0xF8, 'ł', 0xF9, 'ø', 0xFA, 'œ', 0xFB, 'ß',
}

// fillPDFDoc fills t with PDFDocEncoding.
func fillPDFDoc(t *[256]rune) {
	for c := 0x20; c < 256; c++ {
		if c < 0x7F || c >= 0xA1 {
			t[c] = rune(c)
		}
	}
	for i, r := range pdfDocHigh {
		t[0x80+i] = r
	}
	t[0xA0] = '€'
}

// pdfDocHigh is PDFDocEncoding from 0x80 to 0x9E. It is a constant table:
// never written.
var pdfDocHigh = [...]rune{
	'•', '†', '‡', '…', '—', '–', 'ƒ', '⁄', '‹', '›', '−', '‰', '„', '“', '”', '‘',
	'’', '‚', '™', 'ﬁ', 'ﬂ', 'Ł', 'Œ', 'Š', 'Ÿ', 'Ž', 'ı', 'ł', 'œ', 'š', 'ž',
}

// fillSymbol fills t with the Greek letters of the Symbol font, which
// formulas use most; its other glyphs keep their ASCII codes.
func fillSymbol(t *[256]rune) {
	for c := 0x20; c < 0x7F; c++ {
		t[c] = rune(c)
	}
	const upper = "ΑΒΧΔΕΦΓΗΙϑΚΛΜΝΟΠΘΡΣΤΥςΩΞΨΖ" // A..Z in Symbol
	const lower = "αβχδεφγηιϕκλμνοπθρστυϖωξψζ" // a..z in Symbol
	i := 0
	for _, r := range upper {
		t['A'+i] = r
		i++
	}
	i = 0
	for _, r := range lower {
		t['a'+i] = r
		i++
	}
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
