package pdf

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// The protocol between a PDF child and its parent. The child's stdout and
// stderr are not used for it (the PDF library prints there): records go
// over a pipe passed as fd 4, the PDF itself comes in as fd 3, and the
// child's arguments come in the environment.
//
// A record is a kind byte, a big-endian uint32 page number, a big-endian
// uint32 payload length and the payload:
//
//	'H' header: JSON header, sent once, before any page
//	'P' page:   the page's text (UTF-8), pages in increasing order
//	'S' status: JSON status, sent last

// Environment variables that carry the child's role and arguments.
const (
	childEnv = "RAGQ_PDF_CHILD"
	argsEnv  = "RAGQ_PDF_ARGS"
)

// File descriptors of the child: the PDF and the record pipe.
const (
	pdfFD    = 3
	recordFD = 4
)

// Record kinds.
const (
	recHeader = 'H'
	recPage   = 'P'
	recStatus = 'S'
)

// maxMetaRecord bounds header and status payloads.
const maxMetaRecord = 64 << 10

// childArgs is what a child is told, as JSON in argsEnv.
type childArgs struct {
	Index        int   `json:"index"`       // which child: 0 walks first and reports the page count
	Parallelism  int   `json:"parallelism"` // children asked for; the page count decides how many run
	Pages        int   `json:"pages"`       // the page count child 0 found, when known at the start
	Size         int64 `json:"size"`        // the PDF's size in bytes
	MemoryBytes  int64 `json:"memory_bytes"`
	CPUSeconds   int   `json:"cpu_seconds"`
	MaxTextBytes int64 `json:"max_text_bytes"`
	MaxPages     int   `json:"max_pages"`
}

// header is the document-level result of the page-tree walk.
type header struct {
	Pages    int    `json:"pages"`
	Declared int64  `json:"declared"` // the tree's /Count
	Title    string `json:"title"`
}

// status ends a child's records. Code is "" on success, a ragqueue
// code for an input error, or "internal" when the child itself failed.
type status struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message,omitempty"`
	Skipped int    `json:"skipped"`          // pages whose extraction failed (sent with no text)
	Reason  string `json:"reason,omitempty"` // why the first skipped page failed
}

// statusInternal marks a child's own failure (bad arguments, no pipe).
const statusInternal = "internal"

// pageRange is a run of pages one child extracts, 1-based and inclusive.
type pageRange struct{ first, last, owner int }

// effectiveParallelism is how many children parse a document of n pages
// when parallelism are asked for: one for short documents.
func effectiveParallelism(n, parallelism int) int {
	if parallelism < 1 || n < 16 {
		return 1
	}
	return min(parallelism, max(1, n/8))
}

// pageRanges splits n pages among children, round-robin in runs small
// enough that no child runs far ahead of the page the parent needs next.
func pageRanges(n, children int) []pageRange {
	if children <= 1 {
		return []pageRange{{1, n, 0}}
	}
	size := min(max((n+children*8-1)/(children*8), 8), 256)
	var out []pageRange
	for first, i := 1, 0; first <= n; first, i = first+size, i+1 {
		out = append(out, pageRange{first, min(n, first+size-1), i % children})
	}
	return out
}

// recordWriter writes records; it is safe for concurrent use (the
// CPU-limit handler writes the final status from another goroutine).
type recordWriter struct {
	mu  sync.Mutex
	w   *bufio.Writer
	err error
	hdr [9]byte
}

// newRecordWriter writes records to w.
func newRecordWriter(w io.Writer) *recordWriter {
	return &recordWriter{w: bufio.NewWriterSize(w, 64<<10)}
}

// write sends one record and flushes it.
func (rw *recordWriter) write(kind byte, page int, payload []byte) error {
	rw.mu.Lock()
	defer rw.mu.Unlock()
	return rw.writeLocked(kind, page, payload)
}

// writeLocked is write with rw.mu held.
func (rw *recordWriter) writeLocked(kind byte, page int, payload []byte) error {
	if rw.err != nil {
		return rw.err
	}
	rw.hdr[0] = kind
	binary.BigEndian.PutUint32(rw.hdr[1:5], uint32(page))
	binary.BigEndian.PutUint32(rw.hdr[5:9], uint32(len(payload)))
	if _, err := rw.w.Write(rw.hdr[:]); err != nil {
		rw.err = err
		return err
	}
	if _, err := rw.w.Write(payload); err != nil {
		rw.err = err
		return err
	}
	rw.err = rw.w.Flush()
	return rw.err
}

// writeJSON sends a record with a JSON payload.
func (rw *recordWriter) writeJSON(kind byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return rw.write(kind, 0, b)
}

// tryWriteJSON is writeJSON unless another goroutine holds the writer (it
// may be blocked on a full pipe); it reports whether it wrote.
func (rw *recordWriter) tryWriteJSON(kind byte, v any) bool {
	b, err := json.Marshal(v)
	if err != nil || !rw.mu.TryLock() {
		return false
	}
	defer rw.mu.Unlock()
	return rw.writeLocked(kind, 0, b) == nil
}

// errBadRecord reports a record the parent cannot accept.
var errBadRecord = errors.New("malformed record from child")

// readRecord reads one record, refusing payloads over max bytes. The
// payload comes back as a string, read straight into its final memory
// (a page's text is allocated once in the parent).
func readRecord(r *bufio.Reader, max int64) (kind byte, page int, payload string, err error) {
	var hdr [9]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, "", err
	}
	kind = hdr[0]
	page = int(binary.BigEndian.Uint32(hdr[1:5]))
	n := int(binary.BigEndian.Uint32(hdr[5:9]))
	switch kind {
	case recHeader, recStatus:
		max = maxMetaRecord
	case recPage:
	default:
		return 0, 0, "", fmt.Errorf("%w: kind %q", errBadRecord, kind)
	}
	if int64(n) > max {
		return 0, 0, "", fmt.Errorf("%w: %d-byte payload", errBadRecord, n)
	}
	var b strings.Builder
	b.Grow(n)
	for b.Len() < n {
		chunk, err := r.Peek(min(n-b.Len(), r.Size()))
		b.Write(chunk)
		if _, derr := r.Discard(len(chunk)); derr != nil && err == nil {
			err = derr
		}
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return 0, 0, "", err
		}
	}
	return kind, page, b.String(), nil
}
