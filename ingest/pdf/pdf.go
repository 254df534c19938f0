// Package pdf extracts the text of untrusted PDFs in child processes of
// the current executable: the PDF library (ledongthuc/pdf) panics outside
// its own recover on malformed files, prints to stdout and stderr, loops
// forever on some, and can allocate without bound, which kills a Go
// process beyond any recover. A child that dies takes only its PDF with
// it; the parent maps how it died to a message. The library is used for
// the object graph only (cross references, objects, stream filters,
// decryption); the page tree walk, the content-stream interpreter and the
// fonts are ours.
//
// A binary that parses PDFs dispatches to the child side first thing in
// main:
//
//	if pdf.IsChild() {
//		os.Exit(pdf.ChildMain())
//	}
//
// Files:
//
//	pdf.go            this API
//	parent.go         a parse: its children, their pages merged in order
//	children.go       starting a child, taking its records
//	failures.go       input errors, how a child that died without a status died
//	child.go          the child's side: limits, the page loop
//	proto.go          the records children send, how pages are split among children
//	sys_*.go          rlimits, process groups, mmap (Unix; elsewhere Parse fails)
//	document.go       opening a PDF behind guards
//	pages.go          the page-tree walk, a page's content streams
//	refs.go           a dictionary's references, read without resolving them
//	text.go           the content-stream interpreter
//	state.go          the graphics and text state it tracks
//	resources.go      fonts and forms looked up in resource dictionaries
//	layout.go         a page's text laid out from the geometry, then cleaned up
//	font.go           simple fonts: encodings, ToUnicode, widths
//	glyphs.go         glyph names to text
//	composite.go      composite (Type0) fonts
//	encodings.go      the base encodings
//	cmap.go           CMaps
//	lex.go, tokens.go the tokenizer
//	ops.go            the operand stack, and machines kept for reuse
package pdf

import (
	"context"
	"os"
	"runtime"
	"time"

	"github.com/ragqueue/ragqueue/ingest"
)

// Limits bounds one PDF parse. Zero fields take the defaults.
type Limits struct {
	Timeout      time.Duration // wall clock for the whole parse; default 2m
	MemoryBytes  int64         // address-space/heap limit of each child; default 512 MiB
	CPUSeconds   int           // RLIMIT_CPU of each child; default 120
	MaxTextBytes int64         // text the children may return in total; default 64 MiB
	MaxPages     int           // pages a PDF may have (declared or found); default 20000
	Parallelism  int           // child processes parsing page ranges at once; default 2 (at most GOMAXPROCS)
}

// PDF limit defaults.
const (
	DefaultTimeout      = 2 * time.Minute
	DefaultMemoryBytes  = 512 << 20
	DefaultCPUSeconds   = 120
	DefaultMaxTextBytes = 64 << 20
	DefaultMaxPages     = 20000
	DefaultParallelism  = 2
)

// withDefaults fills zero (or negative) fields.
func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	if l.MemoryBytes <= 0 {
		l.MemoryBytes = DefaultMemoryBytes
	}
	if l.CPUSeconds <= 0 {
		l.CPUSeconds = DefaultCPUSeconds
	}
	if l.MaxTextBytes <= 0 {
		l.MaxTextBytes = DefaultMaxTextBytes
	}
	if l.MaxPages <= 0 {
		l.MaxPages = DefaultMaxPages
	}
	if l.Parallelism <= 0 {
		l.Parallelism = min(DefaultParallelism, runtime.GOMAXPROCS(0))
	}
	return l
}

// Parser extracts the text of untrusted PDFs in child processes of the
// current executable, so that a crash, a hang or a memory blow-up in the
// PDF library costs one document, not the worker. It is safe for
// concurrent use; each Parse starts its own children.
type Parser struct {
	exe    string
	limits Limits
	// observe, when set (by tests), is told about each child that exits.
	observe func(childStats)
}

// NewParser returns a parser that re-executes exe (normally the result
// of os.Executable()) in child mode; exe's main must dispatch to
// ChildMain when IsChild reports true. Zero limits take the defaults.
func NewParser(exe string, limits Limits) *Parser {
	return &Parser{exe: exe, limits: limits.withDefaults()}
}

// Parse extracts text page by page from the PDF in f, calling onPage for
// each page in order (1-based page numbers; pages with no text, such as
// scanned images, are still reported, with ""). It returns the page count.
// f must be a regular file; it is passed to the children as a file
// descriptor and mapped read-only, never copied.
//
// Input problems come back as *ragqueue.Error with EINVALID, EUNSUPPORTED
// or ETOOLARGE and a message a person understands; retrying will not help.
// (An encrypted PDF that opens without a password, as viewers open it, is
// read; one that needs a password, or whose encryption the library lacks,
// is EUNSUPPORTED.)
// Other failures (the child cannot start, ctx is cancelled, onPage fails)
// are plain errors; onPage's own error is returned as it is.
func (p *Parser) Parse(ctx context.Context, f *os.File, onPage func(page int, text string) error) (pages int, err error) {
	hdr, err := p.run(ctx, f, onPage)
	return hdr.Pages, err
}

// ParsePDF extracts a PDF's text as Parsed: one Section per page, in
// order, with Page set and Heading "" (pages without text have empty
// Text, so len(Sections) is the page count), and Title from the PDF's Info
// /Title ("" when it has none). The total text is bounded by MaxTextBytes.
// Errors are as for Parse.
func (p *Parser) ParsePDF(ctx context.Context, f *os.File) (ingest.Parsed, error) {
	return p.ParsePDFProgress(ctx, f, nil)
}

// ParsePDFProgress is ParsePDF that also reports how many pages have
// arrived so far, after each page, so that a job can show progress while a
// long PDF is parsed. progress may be nil.
func (p *Parser) ParsePDFProgress(ctx context.Context, f *os.File, progress func(pagesParsed int)) (ingest.Parsed, error) {
	var sections []ingest.Section
	hdr, err := p.run(ctx, f, func(page int, text string) error {
		sections = append(sections, ingest.Section{Page: page, Text: text})
		if progress != nil {
			progress(len(sections))
		}
		return nil
	})
	if err != nil {
		return ingest.Parsed{}, err
	}
	return ingest.Parsed{Title: hdr.Title, Sections: sections}, nil
}

// IsChild reports whether this process was started by a Parser to
// parse a PDF. Binaries (and test binaries, in TestMain) call it first
// thing: if pdf.IsChild() { os.Exit(pdf.ChildMain()) }.
func IsChild() bool {
	return os.Getenv(childEnv) == "1"
}

// ChildMain runs the child side of PDF parsing and returns the process
// exit code. Call it only when IsChild reports true, before anything
// else in main.
func ChildMain() int {
	return childMain()
}
