package pdf_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
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

// requireInputError asserts err is an input error with code and a message
// containing msg.
func requireInputError(t *testing.T, err error, code, msg string) {
	t.Helper()
	require.Error(t, err)
	var e *ragqueue.Error
	require.True(t, errors.As(err, &e), "want a *ragqueue.Error, got %v", err)
	require.Equal(t, code, e.Code, "%v", err)
	require.Contains(t, e.Message, msg, "%v", err)
}

func TestPDFHostile(t *testing.T) {
	t.Parallel()
	good := goodPDF()
	tests := []struct {
		name      string
		data      func(t *testing.T) []byte
		limits    func(*pdf.Limits)
		code, msg string
	}{
		{"self-referencing page tree", func(*testing.T) []byte { return cyclicPDF(false) }, nil,
			ragqueue.EINVALID, "PDF page tree is cyclic"},
		{"page tree cycle through a child", func(*testing.T) []byte { return cyclicPDF(true) }, nil,
			ragqueue.EINVALID, "PDF page tree is cyclic"},
		{"claims two billion pages", func(*testing.T) []byte { return hugeCountPDF() }, nil,
			ragqueue.ETOOLARGE, "PDF claims 2000000000 pages; the limit is 20000"},
		{"more pages than allowed", func(*testing.T) []byte { d, _ := numberedPDF(8); return d },
			func(l *pdf.Limits) { l.MaxPages = 5 }, ragqueue.ETOOLARGE, "PDF claims 8 pages; the limit is 5"},
		// A smaller limit and a longer deadline keep these cases about
		// memory: under the race detector, filling 256 MiB in the child can
		// take longer than the default test deadline (and CPU limit) on a
		// busy machine, and the parse then fails as too slow instead.
		{"content inflating to 400 MiB", zeroBombPDF,
			func(l *pdf.Limits) { l.MemoryBytes, l.Timeout = 64<<20, time.Minute },
			ragqueue.ETOOLARGE, "PDF exceeds the 64 MiB parse limit"},
		{"object stream exhausting memory", memoryBombPDF,
			func(l *pdf.Limits) { l.Timeout, l.CPUSeconds = time.Minute, 60 },
			ragqueue.ETOOLARGE, "PDF exceeds the 256 MiB parse limit"},
		{"object stream recursing forever", func(*testing.T) []byte { return recursionPDF() }, nil,
			ragqueue.EINVALID, "the PDF is malformed: it nests objects too deeply to parse"},
		{"cross-reference sections loop", func(*testing.T) []byte { return prevLoopPDF() }, nil,
			ragqueue.EINVALID, "the PDF is malformed: its cross-reference sections loop"},
		{"encrypted", func(*testing.T) []byte { return encryptedTrailerPDF() }, nil,
			ragqueue.EUNSUPPORTED, "the PDF is encrypted; upload an unencrypted copy"},
		{"encrypted with a user password", readTestdata("user-password.pdf"), nil,
			ragqueue.EUNSUPPORTED, "the PDF is encrypted; upload an unencrypted copy"},
		{"encrypted with AES-256", readTestdata("owner-password-aes256.pdf"), nil,
			ragqueue.EUNSUPPORTED, "the PDF is encrypted; upload an unencrypted copy"},
		{"truncated", func(*testing.T) []byte { return good[:len(good)/2] }, nil,
			ragqueue.EINVALID, "the PDF is malformed: it is truncated or damaged"},
		{"not a PDF", func(*testing.T) []byte { return []byte("PK\x03\x04 this is a zip, not a PDF") }, nil,
			ragqueue.EINVALID, "the file is not a PDF"},
		{"empty", func(*testing.T) []byte { return nil }, nil,
			ragqueue.EINVALID, "the PDF is empty"},
		{"header and garbage", func(*testing.T) []byte {
			return []byte("%PDF-1.4\n" + strings.Repeat("garbage ", 40) + "\nstartxref\n9\n%%EOF\n")
		}, nil,
			ragqueue.EINVALID, "the PDF is malformed"},
		{"every page unreadable", func(*testing.T) []byte { return brokenOffsetsPDF() }, nil,
			ragqueue.EINVALID, "the PDF is malformed: no page could be read"},
		{"text over the limit", func(*testing.T) []byte { return good }, func(l *pdf.Limits) { l.MaxTextBytes = 40 },
			ragqueue.ETOOLARGE, "the PDF's text exceeds the 40 bytes limit"},
		{"slow past the timeout", func(*testing.T) []byte { return slowPDF() }, func(l *pdf.Limits) { l.Timeout = time.Second },
			ragqueue.ETOOLARGE, "PDF parsing took longer than 1s"},
		{"slow past the CPU limit", func(*testing.T) []byte { return slowPDF() }, func(l *pdf.Limits) { l.CPUSeconds = 1; l.Parallelism = 1 },
			ragqueue.ETOOLARGE, "PDF parsing took longer than 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim := testLimits()
			if tt.limits != nil {
				tt.limits(&lim)
			}
			b := setupPDF(t, lim)
			_, err := b.parsePDF(t, tt.data(t))
			t.Logf("%v", err)
			requireInputError(t, err, tt.code, tt.msg)
			for _, s := range b.children() {
				// Finished within its limits: CPU under the limit (a child
				// stopped by the CPU limit gets a second of grace) and memory
				// under the address-space limit (larger under -race).
				require.LessOrEqual(t, s.CPU, time.Duration(lim.CPUSeconds+1)*time.Second, "child %d", s.Index)
				require.Less(t, s.MaxRSS, pdf.RaceAddressFactor*(lim.MemoryBytes+256<<20), "child %d", s.Index)
			}
			setupPDF(t, testLimits()).requireGood(t)
		})
	}
}

func TestPDFEncryptedWithoutUserPasswordIsRead(t *testing.T) {
	t.Parallel()
	// qpdf --encrypt "" owner 128 -- good.pdf: opens without a password,
	// so there is nothing to ask the user for.
	b := setupPDF(t, testLimits())
	for _, name := range []string{"owner-password-rc4.pdf", "owner-password-aes.pdf"} {
		p, err := b.parsePDF(t, readTestdata(name)(t))
		require.NoError(t, err, name)
		require.Len(t, p.Sections, 3, name)
		require.Equal(t, goodPages[0], p.Sections[0].Text, name)
		require.Equal(t, "Quarterly Report", p.Title, name)
	}
}

func TestPDFLibraryPanicSkipsThePage(t *testing.T) {
	t.Parallel()
	// Page 2's content stream has an unsupported filter: the library panics
	// inside its stream code, the child recovers, and the page comes back
	// empty while the others parse.
	p := newTestPDF()
	catalog, pages := p.reserve(), p.reserve()
	font := p.add(helvetica)
	c1 := p.add(stream("", []byte("BT /F1 12 Tf 72 700 Td (First) Tj ET")))
	c2 := p.add(stream("/Filter /LZWDecode", []byte("\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01")))
	c3 := p.add(stream("", []byte("BT /F1 12 Tf 72 700 Td (Third) Tj ET")))
	var kids []string
	for _, c := range []int{c1, c2, c3} {
		kids = append(kids, fmt.Sprintf("%d 0 R", p.add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /Contents %d 0 R >>", pages, c))))
	}
	p.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R >>", pages))
	p.set(pages, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count 3 /Resources << /Font << /F1 %d 0 R >> >> >>", strings.Join(kids, " "), font))
	b := setupPDF(t, testLimits())
	parsed, err := b.parsePDF(t, p.bytes())
	require.NoError(t, err)
	require.Equal(t, []ingest.Section{{Page: 1, Text: "First"}, {Page: 2}, {Page: 3, Text: "Third"}}, parsed.Sections)

	// Files found by mutating generated PDFs (3 and 6 bytes changed), kept
	// as regressions. In the first, the library slices past its buffer
	// ("slice bounds out of range") while loading page 4: that page comes
	// back empty and the other 39 parse. In the second it does so while
	// loading the page tree, which ends the document.
	_, want := numberedPDF(40)
	parsed, err = b.parsePDF(t, readTestdata("library-panic.pdf")(t))
	require.NoError(t, err)
	require.Len(t, parsed.Sections, 40)
	require.Empty(t, parsed.Sections[3].Text)
	same := 0
	for i, s := range parsed.Sections {
		if s.Text == want[i] {
			same++
		}
	}
	require.GreaterOrEqual(t, same, 38, "the mutations touch page 4 and at most one other page")

	_, err = b.parsePDF(t, readTestdata("library-panic-tree.pdf")(t))
	requireInputError(t, err, ragqueue.EINVALID, "the PDF is malformed: its structure could not be read")
	b.requireGood(t)
}

func TestPDFCallerErrors(t *testing.T) {
	t.Parallel()
	b := setupPDF(t, testLimits())

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := b.parser.ParsePDF(ctx, writePDF(t, goodPDF()))
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, ragqueue.EINTERNAL, ragqueue.ErrorCode(err), "a cancelled parse is not the input's fault")

	// Cancelled mid-parse: the children are killed and Parse returns.
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	_, err = b.parser.Parse(ctx, writePDF(t, slowPDF()), func(int, string) error { return nil })
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, ragqueue.EINTERNAL, ragqueue.ErrorCode(err))

	// onPage's error stops the parse and comes back as it is.
	stop := errors.New("enough")
	_, err = b.parser.Parse(context.Background(), writePDF(t, goodPDF()), func(page int, _ string) error {
		if page == 2 {
			return stop
		}
		return nil
	})
	require.ErrorIs(t, err, stop)

	// Not a regular file.
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	_, err = b.parser.ParsePDF(context.Background(), r)
	require.ErrorContains(t, err, "not a regular file")
	require.Equal(t, ragqueue.EINTERNAL, ragqueue.ErrorCode(err))

	// A child that cannot be started.
	bad := pdf.NewParser(filepath.Join(t.TempDir(), "missing"), testLimits())
	_, err = bad.ParsePDF(context.Background(), writePDF(t, goodPDF()))
	require.ErrorContains(t, err, "ingest: pdf: start child")
	require.Equal(t, ragqueue.EINTERNAL, ragqueue.ErrorCode(err))

	b.requireGood(t)
}

// readTestdata returns a function reading a file under testdata.
func readTestdata(name string) func(t *testing.T) []byte {
	return func(t *testing.T) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		require.NoError(t, err)
		return data
	}
}
