package pdf_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// This file builds the hostile PDFs of TestPDFHostile, each small on disk.

// cyclicPDF returns a PDF whose page tree lists itself as its kid, or,
// when viaChild is set, lists a child that lists it back.
func cyclicPDF(viaChild bool) []byte {
	p := newTestPDF()
	catalog, pages := p.reserve(), p.reserve()
	p.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	if !viaChild {
		p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", pages))
		return p.bytes()
	}
	child := p.reserve()
	p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", child))
	p.set(child, fmt.Sprintf("<< /Type /Pages /Parent %d 0 R /Kids [%d 0 R] /Count 1 >>", pages, pages))
	return p.bytes()
}

// onePage returns a one-page PDF whose page tree says /Count count and
// whose page has the given content stream object body.
func onePage(count int64, content string) *testPDF {
	p := newTestPDF()
	catalog, pages := p.reserve(), p.reserve()
	font := p.add(helvetica)
	c := p.add(content)
	page := p.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>", pages, font, c))
	p.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count %d >>", page, count))
	return p
}

// hugeCountPDF claims two billion pages and has one.
func hugeCountPDF() []byte {
	return onePage(2000000000, stream("", []byte("BT /F1 12 Tf (one page) Tj ET"))).bytes()
}

// zeroBombPDF has a 400 KB Flate content stream that inflates to 400 MiB.
func zeroBombPDF(t *testing.T) []byte {
	data := deflateRepeat(t, "BT /F1 12 Tf (before) Tj ET\n", []byte{0}, 400<<20, "")
	return onePage(1, stream("/Filter /FlateDecode", data)).bytes()
}

// memoryBombPDF keeps its font in an object stream that inflates to a
// 128 MiB array, which the PDF library builds in memory (some 2 GB of it)
// before it looks at the font.
func memoryBombPDF(t *testing.T) []byte {
	p := newTestPDF()
	catalog, pages := p.reserve(), p.reserve()
	objstm := p.reserve()
	font := p.reserve()
	c := p.add(stream("", []byte("BT /F1 12 Tf 72 700 Td (text) Tj ET")))
	page := p.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>", pages, font, c))
	p.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", page))
	head := fmt.Sprintf("%d 0 ", font)
	data := deflateRepeat(t, head+"<< /Type /Font /Subtype /Type1 /Widths [", []byte("0 "), 64<<20, "] >>")
	p.set(objstm, stream(fmt.Sprintf("/Type /ObjStm /N 1 /First %d /Filter /FlateDecode", len(head)), data))
	p.pack(font, objstm, 0)
	return p.bytesXrefStream()
}

// recursionPDF lists its only page as stored in an object stream that the
// cross-reference stream says is stored in itself: the library recurses
// until the stack runs out, a fatal error no recover catches.
func recursionPDF() []byte {
	p := newTestPDF()
	catalog, pages := p.reserve(), p.reserve()
	page, objstm := p.reserve(), p.reserve()
	p.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", page))
	p.pack(page, objstm, 0)
	p.pack(objstm, objstm, 0)
	return p.bytesXrefStream()
}

// prevLoopPDF's trailer names its own cross-reference table as the previous
// one, so a reader following /Prev never stops.
func prevLoopPDF() []byte {
	p := onePage(1, stream("", []byte("BT /F1 12 Tf (x) Tj ET")))
	first := p.bytes()
	i := bytes.LastIndex(first, []byte("startxref\n"))
	var off int
	fmt.Sscanf(string(first[i+len("startxref\n"):]), "%d", &off)
	p.trailer = fmt.Sprintf("/Prev %d", off)
	return p.bytes()
}

// encryptedTrailerPDF has an /Encrypt dictionary for a password nobody knows.
func encryptedTrailerPDF() []byte {
	p := onePage(1, stream("", []byte("BT /F1 12 Tf (secret) Tj ET")))
	p.trailer = "/Encrypt << /Filter /Standard /V 1 /R 2 /Length 40 /P -44 " +
		"/O <" + strings.Repeat("4e", 32) + "> /U <" + strings.Repeat("7a", 32) + "> >> " +
		"/ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]"
	return p.bytes()
}

// brokenOffsetsPDF is the good PDF with every page object renumbered, so
// that the cross-reference table points at the wrong objects.
func brokenOffsetsPDF() []byte {
	data := goodPDF()
	for n := 1; n < 20; n++ {
		from := fmt.Sprintf("\n%d 0 obj\n<< /Type /Page ", n)
		to := fmt.Sprintf("\n%d 9 obj\n<< /Type /Page ", n)
		data = bytes.ReplaceAll(data, []byte(from), []byte(to))
	}
	return data
}

// slowPDF has 2000 pages sharing one content stream that inflates to
// 5 MiB of white space: some 20 seconds of work in a 200 KB file.
func slowPDF() []byte {
	p := newTestPDF()
	catalog, pages := p.reserve(), p.reserve()
	var b bytes.Buffer
	b.WriteString("BT /F1 12 Tf (slow) Tj ET\n")
	b.Write(make([]byte, 5<<20))
	c := p.add(stream("/Filter /FlateDecode", deflate(b.Bytes())))
	kids := make([]string, 2000)
	for i := range kids {
		kids[i] = fmt.Sprintf("%d 0 R", p.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Contents %d 0 R >>", pages, c)))
	}
	p.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids)))
	return p.bytes()
}
