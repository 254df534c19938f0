package pdf

import (
	"strings"

	pdflib "github.com/ledongthuc/pdf"
)

// This file reads composite (Type0) fonts: their code lengths, their
// ToUnicode or UCS-2 text and their CID widths.

// cidWidthRange gives codes first..last one width.
type cidWidthRange struct {
	first, last uint32
	w           float64
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
