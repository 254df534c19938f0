package pdf

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"

	pdflib "github.com/ledongthuc/pdf"
	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// This file opens a PDF with ledongthuc/pdf behind guards: a reader that
// patches what the library is needlessly strict about and stops runaway
// reading, and the messages for files the library cannot open. The page
// tree is walked in pages.go.

// errReadBudget is raised (as a panic, through the library) when parsing
// has read far more than the file holds: the library is looping.
var errReadBudget = errors.New("the parser read the file over and over")

// objKey identifies an indirect object.
type objKey struct {
	id  uint32
	gen uint16
}

// objKeyOf returns the indirect object a Value was loaded from. The library
// keeps it in an unexported field; reading it through reflection is the
// only way to tell objects apart, which the page-tree walk needs to find
// cycles and the font cache needs to share fonts between pages.
// TestObjKeyOf pins this against the library version in go.mod. ok is
// false when the field is not there or the value is not indirect.
func objKeyOf(v pdflib.Value) (objKey, bool) {
	f := reflect.ValueOf(v).FieldByName("ptr")
	if !f.IsValid() || f.Kind() != reflect.Struct || f.NumField() != 2 ||
		f.Field(0).Kind() != reflect.Uint32 || f.Field(1).Kind() != reflect.Uint16 {
		return objKey{}, false
	}
	k := objKey{uint32(f.Field(0).Uint()), uint16(f.Field(1).Uint())}
	return k, k != objKey{}
}

// source is the file as the library sees it: a version header it
// accepts (it refuses %PDF-2.0 and headers not followed by a newline),
// trailing bytes after the last %%EOF cut off, and a read budget.
type source struct {
	data   []byte
	size   int64
	head   []byte // replaces data[:len(head)]
	read   int64
	budget int64 // bytes that may be read; 0 means no limit
}

// newSource prepares data for the library.
func newSource(data []byte) *source {
	b := &source{data: data, size: int64(len(data))}
	if len(data) >= 9 && bytes.HasPrefix(data, []byte("%PDF-")) {
		head := append([]byte(nil), data[:9]...)
		if head[5] != '1' || head[6] != '.' || head[7] < '0' || head[7] > '7' {
			copy(head[5:8], "1.7")
		}
		if head[8] != '\r' && head[8] != '\n' {
			head[8] = '\n'
		}
		b.head = head
	}
	// Junk after the last %%EOF (common in mail and web downloads) hides it
	// from the library, which looks in the last 100 bytes only.
	tail := data[max(0, len(data)-4096):]
	if i := bytes.LastIndex(tail, []byte("%%EOF")); i >= 0 {
		b.size = int64(len(data)-len(tail)+i) + 5
	}
	return b
}

// ReadAt implements io.ReaderAt.
func (b *source) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	if off >= b.size {
		return 0, io.EOF
	}
	n := copy(p, b.data[off:b.size])
	if off < int64(len(b.head)) {
		copy(p, b.head[off:])
	}
	b.read += int64(n)
	if b.budget > 0 && b.read > b.budget {
		panic(errReadBudget)
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// document is one open PDF and what extraction has cached about it.
type document struct {
	r          *pdflib.Reader
	src        *source
	fonts      map[objKey]*font
	formRes    map[objKey]*resources
	fallback   *font
	maxContent int64      // bytes one page's content may decode to
	idle       []*machine // lexers and operand stacks for reuse
}

// openPDF opens data. Input errors are *ragqueue.Error.
func openPDF(data []byte, maxContent int64) (*document, error) {
	src := newSource(data)
	if !bytes.HasPrefix(data, []byte("%PDF-")) {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "the file is not a PDF (it does not start with %%PDF-)")
	}
	// Opening reads the cross-reference sections once; a /Prev chain that
	// loops makes the library read them forever.
	src.budget = 4*src.size + 16<<20
	r, err := pdflib.NewReader(src, src.size)
	src.budget = 0
	if err != nil {
		if bytes.Contains(data, []byte("/Encrypt")) && !errors.Is(err, errReadBudget) {
			return nil, errEncrypted()
		}
		return nil, openError(err)
	}
	// From here on, a loop in the library (an object stream extending
	// itself, say) shows as reading the file hundreds of times over.
	src.read, src.budget = 0, 256*src.size+256<<20
	return &document{
		r:          r,
		src:        src,
		fonts:      make(map[objKey]*font),
		formRes:    make(map[objKey]*resources),
		fallback:   defaultFont(),
		maxContent: maxContent,
	}, nil
}

// openError turns the library's open errors into messages for people.
func openError(err error) error {
	msg := err.Error()
	switch {
	case errors.Is(err, errReadBudget):
		return ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: its cross-reference sections loop")
	case errors.Is(err, pdflib.ErrInvalidPassword), strings.Contains(msg, "encrypt"), strings.Contains(msg, "password"):
		return errEncrypted()
	case strings.Contains(msg, "missing %%EOF"), strings.Contains(msg, "startxref"):
		return ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: it is truncated or damaged (no end-of-file marker or cross-reference offset)")
	case strings.Contains(msg, "invalid header"):
		return ragqueue.Errorf(ragqueue.EINVALID, "the file is not a PDF (its header is invalid)")
	}
	return ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: %s", shortReason(msg))
}

// errEncrypted is the error for PDFs that need a password.
func errEncrypted() error {
	return ragqueue.Errorf(ragqueue.EUNSUPPORTED, "the PDF is encrypted; upload an unencrypted copy")
}

// shortReason trims a library error for a client message: one line, no
// "malformed PDF:" prefix, at most 120 runes.
func shortReason(msg string) string {
	msg, _, _ = strings.Cut(msg, "\n")
	for _, p := range []string{"malformed PDF file: ", "malformed PDF: ", "pdf: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return ingest.CleanLine(msg, 120)
}
