package pdf

import (
	"errors"
	"math"
	"strings"

	pdflib "github.com/ledongthuc/pdf"
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
	f.loadSimpleText(fv, subtype, base)
	f.loadSimpleWidths(fv, subtype, base)
	return f
}

// loadSimpleText fills f.text: the base encoding, then Differences, then
// ToUnicode over both.
func (f *font) loadSimpleText(fv pdflib.Value, subtype, base string) {
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
}

// loadSimpleWidths fills f.widths from /Widths, scaled by a Type 3 font's
// matrix, with the missing width (or a guess) for codes it does not list.
func (f *font) loadSimpleWidths(fv pdflib.Value, subtype, base string) {
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
}

// isSymbolFont reports whether a BaseFont is the standard Symbol font.
func isSymbolFont(base string) bool {
	if _, after, ok := strings.Cut(base, "+"); ok {
		base = after
	}
	return base == "Symbol"
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
