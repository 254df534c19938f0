package pdf

import (
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
)

// This file holds the base encodings of simple fonts: WinAnsi, MacRoman,
// Standard, PDFDoc and the Greek letters of Symbol.

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
