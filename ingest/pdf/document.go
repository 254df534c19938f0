package pdf

import (
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	pdflib "github.com/ledongthuc/pdf"
	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// This file opens a PDF with ledongthuc/pdf behind guards: a reader that
// patches what the library is needlessly strict about and stops runaway
// reading, and a page-tree walk of our own (the library's loops forever on
// a cyclic tree and walks from the root for every page).

// maxTreeDepth bounds the page tree's nesting; real trees are a few deep.
const maxTreeDepth = 64

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

// pageRef is one page found in the page tree.
type pageRef struct {
	v         pdflib.Value // the page dictionary
	inherited pdflib.Value // the resources of its nearest ancestor that has them
	bad       string       // why the page could not be loaded, "" when it could
}

// treeWalk collects the pages of a page tree in order.
type treeWalk struct {
	pages    []pageRef
	path     []objKey // the nodes from the root to the current one
	seen     map[objKey]bool
	maxPages int
	nodes    int // intermediate nodes visited
}

// pages returns the document's pages in order, checking the page count
// against maxPages. Input errors are *ragqueue.Error.
func (d *document) pages(maxPages int) (pages []pageRef, declared int64, err error) {
	root := d.r.Trailer().Key("Root").Key("Pages")
	if root.Kind() != pdflib.Dict {
		return nil, 0, ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: it has no page tree")
	}
	declared = root.Key("Count").Int64()
	if declared > int64(maxPages) {
		return nil, declared, ragqueue.Errorf(ragqueue.ETOOLARGE, "PDF claims %d pages; the limit is %d", declared, maxPages)
	}
	w := &treeWalk{seen: make(map[objKey]bool), maxPages: maxPages}
	if err := w.walk(root, pdflib.Value{}, 0); err != nil {
		return nil, declared, err
	}
	if len(w.pages) == 0 {
		return nil, declared, ragqueue.Errorf(ragqueue.EINVALID, "the PDF has no pages")
	}
	return w.pages, declared, nil
}

// walk visits node, a page or an intermediate node, with the resources it
// inherits.
func (w *treeWalk) walk(node, res pdflib.Value, depth int) error {
	key, indirect := objKeyOf(node)
	kids := node.Key("Kids")
	isTree := node.Key("Type").Name() == "Pages" || kids.Kind() == pdflib.Array && node.Key("Type").Name() != "Page"
	if indirect && len(w.path) > 0 && key == w.path[len(w.path)-1] && !isTree {
		indirect = false // a page written inline in its parent's Kids
	}
	if indirect {
		for _, k := range w.path {
			if k == key {
				return ragqueue.Errorf(ragqueue.EINVALID, "PDF page tree is cyclic")
			}
		}
		if w.seen[key] {
			return ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: its page tree lists the same node twice")
		}
		w.seen[key] = true
	}
	if depth > maxTreeDepth {
		if !indirect {
			return ragqueue.Errorf(ragqueue.EINVALID, "PDF page tree is cyclic")
		}
		return ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: its page tree is nested more than %d levels deep", maxTreeDepth)
	}
	if !isTree {
		if len(w.pages) >= w.maxPages {
			return errTooManyPages(w.maxPages)
		}
		// The page's own resources are resolved when its text is extracted:
		// resolving them here would read every page's twice.
		w.pages = append(w.pages, pageRef{v: node, inherited: res})
		return nil
	}
	if r := node.Key("Resources"); r.Kind() == pdflib.Dict {
		res = r
	}
	w.nodes++
	if w.nodes > w.maxPages+1024 {
		return ragqueue.Errorf(ragqueue.EINVALID, "the PDF is malformed: its page tree has more nodes than pages")
	}
	w.path = append(w.path, key)
	defer func() { w.path = w.path[:len(w.path)-1] }()
	n := kids.Len()
	for i := 0; i < n; i++ {
		kid, bad := loadKid(kids, i)
		if bad != "" {
			// An unreadable kid counts as one page with no text, so the rest
			// of the document still parses.
			if len(w.pages) >= w.maxPages {
				return errTooManyPages(w.maxPages)
			}
			w.pages = append(w.pages, pageRef{bad: bad})
			continue
		}
		if kid.Kind() != pdflib.Dict {
			continue
		}
		if err := w.walk(kid, res, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// errTooManyPages is the error for a page tree with more pages than allowed.
func errTooManyPages(limit int) error {
	return ragqueue.Errorf(ragqueue.ETOOLARGE, "PDF has more than %d pages; the limit is %d", limit, limit)
}

// loadKid resolves kids[i], turning a library panic into a reason.
func loadKid(kids pdflib.Value, i int) (kid pdflib.Value, bad string) {
	defer func() {
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && errors.Is(err, errReadBudget) {
				panic(r)
			}
			bad = panicReason(r)
		}
	}()
	return kids.Index(i), ""
}

// pageText extracts one page's text, at most maxBytes of it. A panic in the
// library is returned as an error (errReadBudget is re-raised: it concerns
// the whole document).
func (d *document) pageText(pg pageRef, maxBytes int) (text string, err error) {
	if pg.bad != "" {
		return "", errors.New(pg.bad)
	}
	out := &pageText{max: maxBytes, b: make([]byte, 0, 4096)}
	defer func() {
		if r := recover(); r != nil {
			if e, ok := r.(error); ok && errors.Is(e, errReadBudget) {
				panic(r)
			}
			text, err = "", errors.New(panicReason(r))
		}
	}()
	x := &extractor{doc: d, out: out, gs: gstate{ctm: identity(), th: 1}, tm: identity(), tlm: identity()}
	src := contentReader(pg.v.Key("Contents"))
	if src == nil {
		return "", nil
	}
	res := pg.v.Key("Resources")
	if res.Kind() != pdflib.Dict {
		res = pg.inherited
	}
	if err := x.run(src, newResources(res)); err != nil {
		return "", err
	}
	return cleanText(out.b), nil
}

// refsOf returns the references among a dictionary's entries, by key,
// without resolving them: Value.String prints a dictionary as the library
// holds it, with references as "N G R". It returns nil for anything it
// cannot read, and callers then resolve as usual.
func refsOf(v pdflib.Value) map[string]objKey {
	if v.Kind() != pdflib.Dict {
		return nil
	}
	s := v.String()
	if !strings.HasPrefix(s, "<<") || !strings.HasSuffix(s, ">>") {
		return nil
	}
	s = s[2 : len(s)-2]
	refs := make(map[string]objKey)
	for s != "" {
		s = strings.TrimLeft(s, " ")
		if s == "" {
			break
		}
		if s[0] != '/' {
			return nil
		}
		end := strings.IndexByte(s, ' ')
		if end < 0 {
			return nil
		}
		key := s[1:end]
		s = s[end+1:]
		if k, n, ok := parseRef(s); ok {
			refs[key] = k
			s = s[n:]
			continue
		}
		rest, ok := skipFormatted(s)
		if !ok {
			return nil
		}
		s = rest
	}
	return refs
}

// parseRef reads "N G R" at the start of s, followed by the end or a
// space; n is its length.
func parseRef(s string) (k objKey, n int, ok bool) {
	var nums [2]uint64
	for j := range nums {
		start := n
		for n < len(s) && s[n] >= '0' && s[n] <= '9' && n-start < 10 {
			nums[j] = nums[j]*10 + uint64(s[n]-'0')
			n++
		}
		if n == start || n >= len(s) || s[n] != ' ' {
			return objKey{}, 0, false
		}
		n++
	}
	if n >= len(s) || s[n] != 'R' || n+1 < len(s) && s[n+1] != ' ' ||
		nums[0] > math.MaxUint32 || nums[1] > math.MaxUint16 {
		return objKey{}, 0, false
	}
	return objKey{uint32(nums[0]), uint16(nums[1])}, n + 1, true
}

// skipFormatted skips one value as Value.String formats it (a quoted
// string, a dictionary or array, nested, or a bare token) and returns the
// rest, which starts with the space before the next key.
func skipFormatted(s string) (string, bool) {
	depth := 0
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return "", false
			}
			i = j + 1
		case strings.HasPrefix(s[i:], "<<"):
			depth, i = depth+1, i+2
		case strings.HasPrefix(s[i:], ">>"):
			depth, i = depth-1, i+2
		case c == '[':
			depth, i = depth+1, i+1
		case c == ']':
			depth, i = depth-1, i+1
		case c == ' ' && depth == 0:
			return s[i:], true
		default:
			i++
		}
		if depth < 0 {
			return "", false
		}
	}
	return "", depth == 0
}

// formResources returns the resources of a form XObject, shared by every
// drawing of the same form.
func (d *document) formResources(key objKey, indirect bool, v pdflib.Value) *resources {
	if !indirect {
		return newResources(v)
	}
	if r, ok := d.formRes[key]; ok {
		return r
	}
	r := newResources(v)
	if len(d.formRes) < maxDocFonts {
		d.formRes[key] = r
	}
	return r
}

// contentReader returns a reader over a page's content: one stream, or an
// array of streams read one after the other (each opened only when the
// previous is done). It returns nil when there is no content.
func contentReader(c pdflib.Value) io.Reader {
	switch c.Kind() {
	case pdflib.Stream:
		return c.Reader()
	case pdflib.Array:
		return &streamsReader{arr: c, n: min(c.Len(), 1<<16)}
	}
	return nil
}

// streamsReader reads an array of content streams as one, with a newline
// between streams so that tokens do not run together.
type streamsReader struct {
	arr  pdflib.Value
	n, i int
	cur  io.Reader
	sep  bool // a separator is due before the next stream
}

// Read implements io.Reader.
func (s *streamsReader) Read(p []byte) (int, error) {
	for {
		if s.cur == nil {
			if s.i >= s.n {
				return 0, io.EOF
			}
			if s.sep {
				s.sep = false
				if len(p) == 0 {
					return 0, nil
				}
				p[0] = '\n'
				return 1, nil
			}
			v := s.arr.Index(s.i)
			s.i++
			if v.Kind() != pdflib.Stream {
				continue
			}
			s.cur, s.sep = v.Reader(), true
		}
		n, err := s.cur.Read(p)
		if err == io.EOF {
			s.cur = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

// cleanText normalises extracted text: valid UTF-8 only, no NUL or other
// control characters, ligatures spelled out, Unicode spaces made plain,
// runs of spaces collapsed, lines trimmed, at most one blank line in a row,
// and words hyphenated across a line break joined ("exam-\nple" becomes
// "example", as pdftotext does).
func cleanText(b []byte) string {
	out := make([]byte, 0, len(b))
	space, newlines := false, 0
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		b = b[size:]
		switch {
		case r == '\n':
			space = false
			newlines++
			continue
		case r == utf8.RuneError, r == 0xFEFF, r == 0xAD, r == 0x200B, r == 0x200C, r == 0x200D, r == 0x2060:
			continue // invalid bytes, BOM, soft hyphen, zero-width characters
		case r == '\t' || r == '\r' || unicode.IsSpace(r):
			space = true
			continue
		case r < 0x20 || r >= 0x7F && r < 0xA0:
			continue
		}
		switch {
		case newlines == 1 && unicode.IsLower(r) && endsWithHyphenatedWord(out):
			out = out[:len(out)-1]
		case newlines > 0 && len(out) > 0:
			out = append(out, "\n\n"[:min(newlines, 2)]...)
		case space && len(out) > 0 && newlines == 0:
			out = append(out, ' ')
		}
		newlines, space = 0, false
		if lig := ligature(r); lig != "" {
			out = append(out, lig...)
		} else {
			out = utf8.AppendRune(out, r)
		}
	}
	return string(out)
}

// endsWithHyphenatedWord reports whether b ends with a letter and a hyphen.
func endsWithHyphenatedWord(b []byte) bool {
	if len(b) < 2 || b[len(b)-1] != '-' {
		return false
	}
	r, _ := utf8.DecodeLastRune(b[:len(b)-1])
	return unicode.IsLetter(r)
}

// ligature spells out the Latin ligatures of U+FB00–U+FB06, "" for others.
func ligature(r rune) string {
	switch r {
	case 0xFB00:
		return "ff"
	case 0xFB01:
		return "fi"
	case 0xFB02:
		return "fl"
	case 0xFB03:
		return "ffi"
	case 0xFB04:
		return "ffl"
	case 0xFB05, 0xFB06:
		return "st"
	}
	return ""
}
