package pdf_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/pdf"
)

// This file checks what hostile, broken and encrypted PDFs come to: input
// errors with a message a person understands, or their text where a viewer
// would open them (one broken page costs that page); and that the caller's
// own errors (cancellation, onPage, a bad file) stay plain errors.

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
