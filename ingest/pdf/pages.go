package pdf

import (
	"errors"
	"io"

	pdflib "github.com/ledongthuc/pdf"
	"github.com/ragqueue/ragqueue"
)

// This file finds the pages: a page-tree walk of our own (the library's
// loops forever on a cyclic tree and walks from the root for every page),
// and reads each page's content streams for the interpreter in text.go.

// maxTreeDepth bounds the page tree's nesting; real trees are a few deep.
const maxTreeDepth = 64

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
