package pdf_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/pdf"
)

// TestMain lets the test binary serve as the PDF child: Parser
// re-executes the current executable, which for tests is this binary.
func TestMain(m *testing.M) {
	if pdf.IsChild() {
		os.Exit(pdf.ChildMain())
	}
	os.Exit(m.Run())
}

// testLimits are generous limits for tests: hostile files must fail for
// their own reason, far inside these.
func testLimits() pdf.Limits {
	return pdf.Limits{Timeout: 10 * time.Second, MemoryBytes: 256 << 20, CPUSeconds: 10, Parallelism: 2}
}

// pdfBundle is a parser with its children's statistics.
type pdfBundle struct {
	parser *pdf.Parser
	limits pdf.Limits
	mu     sync.Mutex
	stats  []pdf.ChildStats
}

// setupPDF returns a parser re-executing the test binary with lim.
func setupPDF(t testing.TB, lim pdf.Limits) *pdfBundle {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	b := &pdfBundle{parser: pdf.NewParser(exe, lim), limits: lim}
	pdf.ObserveChildren(b.parser, func(s pdf.ChildStats) {
		b.mu.Lock()
		b.stats = append(b.stats, s)
		b.mu.Unlock()
	})
	return b
}

// children returns the stats of the children that have exited so far.
func (b *pdfBundle) children() []pdf.ChildStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]pdf.ChildStats(nil), b.stats...)
}

// writePDF writes data to a temporary file and opens it.
func writePDF(t testing.TB, data []byte) *os.File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "doc.pdf")
	require.NoError(t, os.WriteFile(path, data, 0o600))
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	return f
}

// parsePDF runs ParsePDF on data.
func (b *pdfBundle) parsePDF(t testing.TB, data []byte) (ingest.Parsed, error) {
	t.Helper()
	return b.parser.ParsePDF(context.Background(), writePDF(t, data))
}

// requireGood asserts that the good PDF parses right with b: the parser and
// the test process are fine after whatever came before.
func (b *pdfBundle) requireGood(t *testing.T) {
	t.Helper()
	p, err := b.parsePDF(t, goodPDF())
	require.NoError(t, err)
	require.Equal(t, "Quarterly Report", p.Title)
	require.Len(t, p.Sections, len(goodPages))
	for i, s := range p.Sections {
		require.Equal(t, ingest.Section{Page: i + 1, Text: goodPages[i]}, s)
	}
}

func TestPDFGood(t *testing.T) {
	t.Parallel()
	b := setupPDF(t, testLimits())
	b.requireGood(t)

	// Parse streams the same pages in order.
	var got []string
	n, err := b.parser.Parse(context.Background(), writePDF(t, goodPDF()), func(page int, text string) error {
		require.Equal(t, len(got)+1, page)
		got = append(got, text)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, n)
	require.Equal(t, goodPages, got)
	for _, s := range b.children() {
		require.True(t, s.Exit.Success(), "child %d: %v", s.Index, s.Exit)
	}
}

// numberedPDF has n pages reading "This is page N." (a second line on odd
// pages).
func numberedPDF(n int) ([]byte, []string) {
	contents := make([]string, n)
	want := make([]string, n)
	for i := range n {
		contents[i] = fmt.Sprintf("BT /F1 11 Tf 72 700 Td (This is page %d.) Tj ET", i+1)
		want[i] = fmt.Sprintf("This is page %d.", i+1)
		if i%2 == 0 {
			contents[i] += fmt.Sprintf("\nBT /F1 11 Tf 72 686 Td (Odd page %d has two lines.) Tj ET", i+1)
			want[i] += fmt.Sprintf("\nOdd page %d has two lines.", i+1)
		}
	}
	return simplePDF("", contents...), want
}

func TestPDFParallelPagesInOrder(t *testing.T) {
	t.Parallel()
	data, want := numberedPDF(203)
	// Past 512 KiB all children start at once rather than after the first
	// has counted the pages: pad a copy with an unused stream.
	padded := padPDF(data, 600<<10)
	few, fewWant := numberedPDF(5)
	for _, tt := range []struct {
		name     string
		data     []byte
		want     []string
		par      int
		children int
	}{
		{"parallelism 1", data, want, 1, 1},
		{"parallelism 2", data, want, 2, 2},
		{"parallelism 3", data, want, 3, 3},
		{"parallelism 2 started early", padded, want, 2, 2},
		{"parallelism 3 started early, few pages", padPDF(few, 600<<10), fewWant, 3, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim := testLimits()
			lim.Parallelism = tt.par
			b := setupPDF(t, lim)
			var got []string
			n, err := b.parser.Parse(context.Background(), writePDF(t, tt.data), func(page int, text string) error {
				require.Equal(t, len(got)+1, page)
				got = append(got, text)
				return nil
			})
			require.NoError(t, err)
			require.Equal(t, len(tt.want), n)
			require.Equal(t, tt.want, got)
			require.Len(t, b.children(), tt.children)
			for _, s := range b.children() {
				require.True(t, s.Exit.Success(), "child %d: %v", s.Index, s.Exit)
			}
		})
	}
}

// padPDF appends an unreferenced object of n bytes and a cross-reference
// update after it (an incremental update), so that the file is bigger
// without changing its content.
func padPDF(data []byte, n int) []byte {
	i := bytes.LastIndex(data, []byte("startxref\n"))
	var prev int
	fmt.Sscanf(string(data[i+len("startxref\n"):]), "%d", &prev)
	size := bytes.Count(data[:prev], []byte(" 0 obj\n")) + 1
	var b bytes.Buffer
	b.Write(data)
	off := b.Len()
	fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", size, stream("", make([]byte, n)))
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n%d 1\n%010d 00000 n \ntrailer\n<< /Size %d /Root 1 0 R /Prev %d >>\nstartxref\n%d\n%%%%EOF\n",
		size, off, size+1, prev, xref)
	return b.Bytes()
}

func TestPDFFewPagesUseOneChild(t *testing.T) {
	t.Parallel()
	b := setupPDF(t, testLimits())
	data, want := numberedPDF(10)
	p, err := b.parsePDF(t, data)
	require.NoError(t, err)
	require.Len(t, p.Sections, len(want))
	require.Len(t, b.children(), 1)
}

func TestPDFImageOnlyIsNotAnError(t *testing.T) {
	t.Parallel()
	p := newTestPDF()
	catalog, pages := p.reserve(), p.reserve()
	img := p.add(stream("/Type /XObject /Subtype /Image /Width 2 /Height 2 /ColorSpace /DeviceGray /BitsPerComponent 8", []byte("\x00\xff\xff\x00")))
	content := p.add(stream("", []byte("q 200 0 0 200 100 400 cm /Im1 Do Q\nBI /W 2 /H 1 /CS /G /BPC 8 ID \x00(\xff EI Q")))
	page := p.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Resources << /XObject << /Im1 %d 0 R >> >> /Contents %d 0 R >>", pages, img, content))
	p.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R %d 0 R] /Count 2 >>", page, page))
	b := setupPDF(t, testLimits())
	_, err := b.parsePDF(t, p.bytes())
	requireInputError(t, err, ragqueue.EINVALID, "the PDF is malformed: its page tree lists the same node twice")

	p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", page))
	parsed, err := b.parsePDF(t, p.bytes())
	require.NoError(t, err)
	require.Equal(t, []ingest.Section{{Page: 1, Text: ""}}, parsed.Sections)
}

func TestPDFCompositeFont(t *testing.T) {
	t.Parallel()
	// go-pdf/fpdf v0.9.0 with a UTF-8 TrueType font (DejaVu Sans): a Type0
	// font with Identity-H codes and a ToUnicode CMap, the way most
	// producers write non-Latin text, plus a page in a standard font.
	b := setupPDF(t, testLimits())
	p, err := b.parsePDF(t, readTestdata("fpdf-utf8.pdf")(t))
	require.NoError(t, err)
	require.Equal(t, "Überblick: Ünïcödé test", p.Title)
	require.Equal(t, []ingest.Section{
		{Page: 1, Text: "Grüße aus Köln — naïve café, 東京 is not in this font.\n\n" +
			"Ελληνικά και русский текст. The quick brown fox jumps over the lazy dog,\n" +
			"again and again, until the line wraps onto a second line."},
		{Page: 2, Text: "Core font page: plain ASCII."},
	}, p.Sections)
}

func TestPDFFormXObjectText(t *testing.T) {
	t.Parallel()
	p := newTestPDF()
	catalog, pages := p.reserve(), p.reserve()
	font := p.add(helvetica)
	inner := p.add(stream("/Type /XObject /Subtype /Form /BBox [0 0 500 100] /Resources << /Font << /F9 "+fmt.Sprint(font)+" 0 R >> >>",
		[]byte("BT /F9 10 Tf 0 0 Td (Footer drawn by a form) Tj ET")))
	self := p.reserve()
	p.set(self, stream(fmt.Sprintf("/Type /XObject /Subtype /Form /BBox [0 0 1 1] /Resources << /XObject << /Me %d 0 R >> >>", self), []byte("/Me Do")))
	content := p.add(stream("", []byte("BT /F1 12 Tf 72 700 Td (Body text) Tj ET /Fx Do /Loop Do")))
	page := p.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Resources << /Font << /F1 %d 0 R >> /XObject << /Fx %d 0 R /Loop %d 0 R >> >> /Contents %d 0 R >>",
		pages, font, inner, self, content))
	p.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%d 0 R] /Count 1 >>", page))
	b := setupPDF(t, testLimits())
	parsed, err := b.parsePDF(t, p.bytes())
	require.NoError(t, err)
	require.Equal(t, "Body text\n\nFooter drawn by a form", parsed.Sections[0].Text)
}
