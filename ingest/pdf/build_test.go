package pdf_test

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/adler32"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// This file writes small PDFs by hand for the tests: real PDF syntax with
// correct cross-reference offsets, so that each file exercises exactly the
// trouble it is named for.

// testPDF is a PDF under construction. Objects are numbered from 1 in the
// order they are added; object 1 should be the catalog.
type testPDF struct {
	header  string
	objs    [][]byte       // bodies, without "N 0 obj" and "endobj"; nil for compressed ones
	packed  map[int][2]int // object → (object stream, index), for xref streams
	trailer string         // extra trailer entries, such as "/Info 5 0 R"
}

// newTestPDF starts a PDF with a version 1.5 header.
func newTestPDF() *testPDF {
	return &testPDF{header: "%PDF-1.5\n%\xe2\xe3\xcf\xd3\n", packed: map[int][2]int{}}
}

// add appends an object and returns its number.
func (p *testPDF) add(body string) int {
	p.objs = append(p.objs, []byte(body))
	return len(p.objs)
}

// reserve appends an empty object to fill in later with set.
func (p *testPDF) reserve() int { return p.add("null") }

// set replaces object n's body.
func (p *testPDF) set(n int, body string) { p.objs[n-1] = []byte(body) }

// stream returns a stream object body with dict entries and data.
func stream(dict string, data []byte) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// flateStream returns a FlateDecode stream object body.
func flateStream(dict string, data []byte) string {
	return stream(dict+" /Filter /FlateDecode", deflate(data))
}

// deflate compresses data with zlib at best compression.
func deflate(data []byte) []byte {
	var b bytes.Buffer
	w, _ := zlib.NewWriterLevel(&b, zlib.BestCompression)
	_, _ = w.Write(data)
	_ = w.Close()
	return b.Bytes()
}

// deflateRepeat returns a zlib stream of prefix, unit repeated n times, and
// suffix. Compressing hundreds of MiB is slow, the more so under the race
// detector, so one 1 MiB chunk is compressed once and its blocks repeated:
// a sync flush ends them byte-aligned, and they refer to nothing before
// them. The checksum is computed over the real data, so the stream is valid
// to its end.
func deflateRepeat(t testing.TB, prefix string, unit []byte, n int, suffix string) []byte {
	t.Helper()
	compress := func(data []byte, final bool) []byte {
		var b bytes.Buffer
		w, err := flate.NewWriter(&b, flate.BestCompression)
		require.NoError(t, err)
		_, err = w.Write(data)
		require.NoError(t, err)
		if final {
			require.NoError(t, w.Close())
		} else {
			require.NoError(t, w.Flush())
		}
		return b.Bytes()
	}
	perChunk := max(1, (1<<20)/len(unit))
	chunk := bytes.Repeat(unit, perChunk)
	sum := adler32.New()
	var b bytes.Buffer
	b.Write([]byte{0x78, 0xda}) // zlib header: deflate, best compression
	b.Write(compress([]byte(prefix), false))
	_, _ = sum.Write([]byte(prefix))
	full := compress(chunk, false)
	for left := n; left > 0; {
		k := min(left, perChunk)
		if k == perChunk {
			b.Write(full)
		} else {
			b.Write(compress(chunk[:k*len(unit)], false))
		}
		_, _ = sum.Write(chunk[:k*len(unit)])
		left -= k
	}
	b.Write(compress([]byte(suffix), true))
	_, _ = sum.Write([]byte(suffix))
	return binary.BigEndian.AppendUint32(b.Bytes(), sum.Sum32())
}

// bytes writes the file with a classic xref table.
func (p *testPDF) bytes() []byte {
	var b bytes.Buffer
	b.WriteString(p.header)
	offsets := make([]int, len(p.objs))
	for i, body := range p.objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(p.objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R %s >>\nstartxref\n%d\n%%%%EOF\n", len(p.objs)+1, p.trailer, xref)
	return b.Bytes()
}

// pack marks object n as stored at index idx of object stream stm (whose
// body the caller writes); bytesXrefStream then lists it as compressed.
func (p *testPDF) pack(n, stm, idx int) {
	p.objs[n-1] = nil
	p.packed[n] = [2]int{stm, idx}
}

// bytesXrefStream writes the file with a cross-reference stream, which can
// point into object streams.
func (p *testPDF) bytesXrefStream() []byte {
	var b bytes.Buffer
	b.WriteString(p.header)
	offsets := make([]int, len(p.objs))
	for i, body := range p.objs {
		if body == nil {
			continue
		}
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, body)
	}
	xrefNum := len(p.objs) + 1
	xref := b.Len()
	var rows bytes.Buffer
	row := func(typ byte, f2 uint32, f3 uint16) {
		rows.WriteByte(typ)
		_ = binary.Write(&rows, binary.BigEndian, f2)
		_ = binary.Write(&rows, binary.BigEndian, f3)
	}
	row(0, 0, 65535)
	for i := range p.objs {
		if pk, ok := p.packed[i+1]; ok {
			row(2, uint32(pk[0]), uint16(pk[1]))
		} else {
			row(1, uint32(offsets[i]), 0)
		}
	}
	row(1, uint32(xref), 0)
	fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", xrefNum,
		stream(fmt.Sprintf("/Type /XRef /Size %d /W [1 4 2] /Root 1 0 R %s", xrefNum+1, p.trailer), rows.Bytes()))
	fmt.Fprintf(&b, "startxref\n%d\n%%%%EOF\n", xref)
	return b.Bytes()
}

// helvetica is a standard font dictionary with WinAnsi encoding.
const helvetica = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"

// simplePDF returns a PDF whose pages have the given content streams, all
// with font /F1 (Helvetica), and an Info dictionary titled title.
func simplePDF(title string, contents ...string) []byte {
	p := newTestPDF()
	catalog := p.reserve()
	pages := p.reserve()
	font := p.add(helvetica)
	var kids []string
	for _, c := range contents {
		content := p.add(flateStream("", []byte(c)))
		page := p.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Contents %d 0 R >>", pages, content))
		kids = append(kids, fmt.Sprintf("%d 0 R", page))
	}
	p.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d /Resources << /Font << /F1 %d 0 R >> >> >>",
		strings.Join(kids, " "), len(kids), font))
	if title != "" {
		info := p.add(fmt.Sprintf("<< /Title (%s) /Producer (ragqueue tests) >>", title))
		p.trailer = fmt.Sprintf("/Info %d 0 R", info)
	}
	return p.bytes()
}

// goodPages are the texts the good PDF's pages must come out as.
var goodPages = []string{
	"Page one: the quick brown fox.\nKerned words come out spaced.",
	"Second page\n\nFar below, after a gap.",
	"Café crème à la carte, 10 €.",
}

// goodPDF is a 3-page PDF with known text per page and a title.
func goodPDF() []byte {
	return simplePDF("Quarterly Report",
		"BT /F1 12 Tf 72 720 Td (Page one: the quick brown fox.) Tj 0 -16 Td [(Kerned)-300(words)-280(come) -250 (out spaced.)] TJ ET",
		"BT /F1 12 Tf 72 720 Td (Second page) Tj ET\nBT /F1 12 Tf 72 600 Td (Far below, after a gap.) Tj ET",
		"BT /F1 12 Tf 72 720 Td (Caf\\351 cr\\350me \\340 la carte,\\000 10 \\200.) Tj ET",
	)
}

// TestDeflateRepeatIsValid: the repeated blocks inflate to exactly the data,
// checksum included.
func TestDeflateRepeatIsValid(t *testing.T) {
	t.Parallel()
	unit := []byte("0 ")
	n := (3<<20)/len(unit) + 7
	z := deflateRepeat(t, "head[", unit, n, "]tail")
	r, err := zlib.NewReader(bytes.NewReader(z))
	require.NoError(t, err)
	got, err := io.ReadAll(r)
	require.NoError(t, err, "the stream and its checksum must be valid to the end")
	want := "head[" + string(bytes.Repeat(unit, n)) + "]tail"
	require.Equal(t, len(want), len(got))
	require.True(t, string(got) == want)
}
