package pdf

import (
	"errors"
	"io"
	"math"

	pdflib "github.com/ledongthuc/pdf"
)

// This file turns a page's content stream into text in drawing order. It
// tracks the text and graphics state far enough to know where each string
// starts and ends on the page, and from that geometry decides where words
// break (a gap wider than a fraction of the font size) and where lines and
// paragraphs break (the baseline moves).

// Interpreter bounds per page.
const (
	maxFormDepth  = 12   // nesting of form XObjects
	maxFormCalls  = 4096 // form XObjects drawn on one page
	maxStateDepth = 256  // q nesting kept (deeper q/Q pairs are counted, not saved)
	maxPageNames  = 1024 // fonts, and forms, one resource dictionary may name
	maxDocFonts   = 4096 // fonts (and form resources) remembered per document
)

// errTextTooLarge reports text past the extraction budget.
var errTextTooLarge = errors.New("text exceeds the limit")

// matrix is a PDF transformation matrix [a b c d e f].
type matrix [6]float64

// identity returns the identity matrix.
func identity() matrix { return matrix{1, 0, 0, 1, 0, 0} }

// mul returns m × n (apply m, then n).
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2], m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2], m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4], m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

// apply transforms the point (x, y).
func (m matrix) apply(x, y float64) (float64, float64) {
	return x*m[0] + y*m[2] + m[4], x*m[1] + y*m[3] + m[5]
}

// gstate is the part of the graphics state text extraction needs; q and Q
// save and restore it.
type gstate struct {
	ctm                        matrix
	tc, tw, th, tl, tfs, trise float64
	font                       *font
}

// setParam sets the text state parameter that the one-operand operator op
// (Tc, Tw, Tz, TL or Ts) sets to v.
func (g *gstate) setParam(op string, v float64) {
	switch op {
	case "Tc":
		g.tc = v
	case "Tw":
		g.tw = v
	case "Tz":
		g.th = v / 100 // a percentage
	case "TL":
		g.tl = v
	case "Ts":
		g.trise = v
	}
}

// resources is one resource dictionary with what has been looked up in it.
type resources struct {
	v        pdflib.Value
	fontDict *pdflib.Value
	fontRefs map[string]objKey // the font dictionary's references, unresolved
	fonts    map[string]*font
	xobjDict *pdflib.Value
	forms    map[string]pdflib.Value // form XObjects by name; a null Value for non-forms
}

// newResources wraps a resource dictionary (possibly null).
func newResources(v pdflib.Value) *resources {
	return &resources{v: v}
}

// font returns the font the resources name, loading it once per document.
// A font already loaded for another page is found by its reference alone:
// resolving it again would re-read (and, in an object stream, re-inflate)
// its dictionary on every page.
func (r *resources) font(x *extractor, name []byte) *font {
	if f, ok := r.fonts[string(name)]; ok {
		return f
	}
	if r.fonts == nil {
		r.fonts = make(map[string]*font)
	}
	if len(r.fonts) >= maxPageNames {
		return x.doc.fallback
	}
	if r.fontDict == nil {
		d := r.v.Key("Font")
		r.fontDict = &d
		r.fontRefs = refsOf(d)
	}
	if key, ok := r.fontRefs[string(name)]; ok {
		if f := x.doc.fonts[key]; f != nil {
			r.fonts[string(name)] = f
			return f
		}
	}
	fv := r.fontDict.Key(string(name))
	var f *font
	key, indirect := objKeyOf(fv)
	if dictKey, _ := objKeyOf(*r.fontDict); indirect && key == dictKey {
		indirect = false // a direct dictionary inside the font dictionary
	}
	if indirect {
		f = x.doc.fonts[key]
	}
	if f == nil {
		if fv.Kind() == pdflib.Null {
			f = x.doc.fallback
		} else {
			f = loadFont(fv)
		}
		if indirect && len(x.doc.fonts) < maxDocFonts {
			x.doc.fonts[key] = f
		}
	}
	r.fonts[string(name)] = f
	return f
}

// form returns the form XObject the resources name, or a null Value.
func (r *resources) form(name []byte) pdflib.Value {
	if v, ok := r.forms[string(name)]; ok {
		return v
	}
	if r.forms == nil {
		r.forms = make(map[string]pdflib.Value)
	}
	if r.xobjDict == nil {
		d := r.v.Key("XObject")
		r.xobjDict = &d
	}
	var v pdflib.Value
	if len(r.forms) < maxPageNames {
		if x := r.xobjDict.Key(string(name)); x.Kind() == pdflib.Stream && x.Key("Subtype").Name() == "Form" {
			v = x
		}
		r.forms[string(name)] = v
	}
	return v
}

// extractor holds one page's interpretation state.
type extractor struct {
	doc    *document
	out    *pageText
	gs     gstate
	saved  []gstate
	extra  int // q operators past maxStateDepth, awaiting their Q
	tm     matrix
	tlm    matrix
	res    *resources
	forms  []objKey // forms being drawn, to refuse cycles
	calls  int      // forms drawn on this page
	runBuf []byte
}

// run interprets one content stream (a page's or a form's) with res.
func (x *extractor) run(src io.Reader, res *resources) error {
	m := x.doc.getMachine()
	defer x.doc.putMachine(m)
	lx, o := &m.lx, &m.o
	lx.reset(src, x.doc.maxContent)
	prevRes := x.res
	x.res = res
	defer func() { x.res = prevRes }()
	var a [6]float64
	o.interpret(lx, func(op []byte) bool {
		switch string(op) {
		case "q":
			if len(x.saved) < maxStateDepth {
				x.saved = append(x.saved, x.gs)
			} else {
				x.extra++
			}
		case "Q":
			if x.extra > 0 {
				x.extra--
			} else if n := len(x.saved); n > 0 {
				x.gs = x.saved[n-1]
				x.saved = x.saved[:n-1]
			}
		case "cm":
			if o.nums(a[:6]) {
				x.gs.ctm = matrix(a).mul(x.gs.ctm)
			}
		case "BT":
			x.tm, x.tlm = identity(), identity()
		case "Tf":
			if args := o.top(2); args != nil && args[0].kind == tokName {
				x.gs.font = x.res.font(x, o.bytesOf(args[0]))
				if args[1].kind == tokNum {
					x.gs.tfs = args[1].num
				}
			}
		case "Tc", "Tw", "Tz", "TL", "Ts":
			if o.nums(a[:1]) {
				x.gs.setParam(string(op), a[0])
			}
		case "Td":
			if o.nums(a[:2]) {
				x.moveLine(a[0], a[1])
			}
		case "TD":
			if o.nums(a[:2]) {
				x.gs.tl = -a[1]
				x.moveLine(a[0], a[1])
			}
		case "Tm":
			if o.nums(a[:6]) {
				x.tm = matrix(a)
				x.tlm = x.tm
			}
		case "T*":
			x.moveLine(0, -x.gs.tl)
		case "Tj":
			if args := o.top(1); args != nil && args[0].kind == tokStr {
				x.show(o.bytesOf(args[0]))
			}
		case "'":
			x.moveLine(0, -x.gs.tl)
			if args := o.top(1); args != nil && args[0].kind == tokStr {
				x.show(o.bytesOf(args[0]))
			}
		case "\"":
			if args := o.top(3); args != nil && args[2].kind == tokStr {
				x.gs.tw, x.gs.tc = args[0].num, args[1].num
				x.moveLine(0, -x.gs.tl)
				x.show(o.bytesOf(args[2]))
			}
		case "TJ":
			if args := o.top(1); args != nil {
				for _, e := range o.array(args[0]) {
					switch e.kind {
					case tokStr:
						x.show(o.bytesOf(e))
					case tokNum:
						x.advance(-e.num / 1000 * x.gs.tfs * x.gs.th)
					}
				}
			}
		case "Do":
			if args := o.top(1); args != nil && args[0].kind == tokName {
				x.drawForm(o.bytesOf(args[0]))
			}
		}
		return !x.out.full
	})
	if x.out.full {
		return errTextTooLarge
	}
	if lx.err != nil {
		return lx.err
	}
	return nil
}

// machine is a lexer with its operand stack, kept for reuse: a page and
// each form it draws (nested) need one.
type machine struct {
	lx lexer
	o  operands
}

// getMachine returns an idle lexer and operand stack.
func (d *document) getMachine() *machine {
	if n := len(d.idle); n > 0 {
		m := d.idle[n-1]
		d.idle = d.idle[:n-1]
		return m
	}
	return &machine{}
}

// putMachine keeps m for reuse.
func (d *document) putMachine(m *machine) {
	m.lx.src = nil
	m.o.clear()
	if cap(m.o.arena) > 1<<20 || cap(m.o.stack) > 1<<12 || cap(m.o.elems) > 1<<12 {
		m.o = operands{} // do not keep what one hostile page grew
	}
	d.idle = append(d.idle, m)
}

// moveLine starts a new line offset (tx, ty) from the current line start.
func (x *extractor) moveLine(tx, ty float64) {
	x.tlm = matrix{1, 0, 0, 1, tx, ty}.mul(x.tlm)
	x.tm = x.tlm
}

// advance moves the text position along the baseline by tx text space units.
func (x *extractor) advance(tx float64) {
	x.tm[4] += tx * x.tm[0]
	x.tm[5] += tx * x.tm[1]
}

// show draws a string: it decodes it with the current font, works out where
// it starts and ends on the page, and hands the text to the page builder.
func (x *extractor) show(s []byte) {
	f := x.gs.font
	if f == nil {
		f = x.doc.fallback
	}
	trm := x.tm.mul(x.gs.ctm)
	sx, sy := trm.apply(0, x.gs.trise)
	buf := x.runBuf[:0]
	var adv float64
	tfs, tc, tw, th := x.gs.tfs, x.gs.tc, x.gs.tw, x.gs.th
	if f.composite {
		for len(s) > 0 {
			code, n := f.nextCode(s)
			s = s[n:]
			buf = append(buf, f.decodeComposite(code, n)...)
			w := f.cidWidth(code)*tfs + tc
			if n == 1 && code == ' ' {
				w += tw
			}
			adv += w * th
		}
	} else {
		for _, c := range s {
			buf = append(buf, f.text[c]...)
			w := f.widths[c]*tfs + tc
			if c == ' ' {
				w += tw
			}
			adv += w * th
		}
	}
	x.runBuf = buf
	x.advance(adv)
	if len(buf) == 0 {
		return
	}
	ex, ey := x.tm.mul(x.gs.ctm).apply(0, x.gs.trise)
	// Direction of the baseline and the font's size on the page.
	dx, dy := trm[0], trm[1]
	if l := math.Hypot(dx, dy); l > 0 {
		dx, dy = dx/l, dy/l
	} else {
		dx, dy = 1, 0
	}
	size := math.Abs(tfs) * math.Hypot(trm[2], trm[3])
	x.out.add(buf, sx, sy, ex, ey, dx, dy, size)
}

// drawForm interprets a form XObject's content in place.
func (x *extractor) drawForm(name []byte) {
	form := x.res.form(name)
	if form.Kind() != pdflib.Stream || len(x.forms) >= maxFormDepth || x.calls >= maxFormCalls {
		return
	}
	key, indirect := objKeyOf(form)
	if indirect {
		for _, k := range x.forms {
			if k == key {
				return // the form draws itself
			}
		}
	}
	x.calls++
	x.forms = append(x.forms, key)
	// A form runs as if between q and Q, with a state stack of its own: an
	// unbalanced Q inside it cannot pop the page's states.
	gs, tm, tlm, saved, extra := x.gs, x.tm, x.tlm, x.saved, x.extra
	x.saved, x.extra = nil, 0
	defer func() {
		x.forms = x.forms[:len(x.forms)-1]
		x.gs, x.tm, x.tlm, x.saved, x.extra = gs, tm, tlm, saved, extra
	}()
	if m := form.Key("Matrix"); m.Len() == 6 {
		var fm matrix
		for i := range fm {
			fm[i] = m.Index(i).Float64()
		}
		x.gs.ctm = fm.mul(x.gs.ctm)
	}
	res := x.res
	if r := form.Key("Resources"); r.Kind() == pdflib.Dict {
		res = x.doc.formResources(key, indirect, r)
	}
	_ = x.run(form.Reader(), res) // a form's own errors end only the form
}

// pageText accumulates a page's text and the geometry of the last string.
type pageText struct {
	b        []byte
	max      int  // bytes allowed
	full     bool // max was reached
	has      bool
	ex, ey   float64 // where the last string ended
	dx, dy   float64 // its baseline direction
	sx, sy   float64 // where it started
	size     float64 // its font size
	lastSize float64 // font size of the last line break's line, for paragraph gaps
}

// add appends one drawn string, first inserting the space, line break or
// paragraph break that the geometry implies.
func (p *pageText) add(s []byte, sx, sy, ex, ey, dx, dy, size float64) {
	if p.full {
		return
	}
	if !finite(sx) || !finite(sy) || !finite(ex) || !finite(ey) || !finite(size) {
		sx, sy, ex, ey, size = p.ex, p.ey, p.ex, p.ey, p.size
	}
	if p.has {
		p.separate(s, sx, sy, dx, dy, size)
	}
	if len(p.b)+len(s) > p.max {
		p.full = true
		return
	}
	p.b = append(p.b, s...)
	p.has = true
	p.sx, p.sy, p.ex, p.ey, p.dx, p.dy, p.size = sx, sy, ex, ey, dx, dy, size
}

// separate writes what goes between the previous string and one starting
// at (sx, sy) with baseline direction (dx, dy) and font size size.
func (p *pageText) separate(s []byte, sx, sy, dx, dy, size float64) {
	ref := min(size, p.size)
	if ref <= 0.01 {
		ref = max(size, p.size, 1)
	}
	vx, vy := sx-p.ex, sy-p.ey
	along := vx*p.dx + vy*p.dy
	across := vy*p.dx - vx*p.dy // positive: the new string sits above the old baseline
	sameDir := dx*p.dx+dy*p.dy > 0.95
	switch {
	case !sameDir || math.Abs(across) > 0.6*ref || along < -4*ref:
		p.newline()
		if sameDir && across < -2.0*max(size, p.size) {
			p.newline() // a wide vertical gap: a paragraph or block break
		}
	case along > 0.15*ref:
		p.space(s)
	}
}

// newline ends the current line, unless the text already ends with two.
func (p *pageText) newline() {
	n := len(p.b)
	for n > 0 && p.b[n-1] == ' ' {
		n--
	}
	p.b = p.b[:n]
	if n == 0 || n >= 2 && p.b[n-1] == '\n' && p.b[n-2] == '\n' {
		return
	}
	p.b = append(p.b, '\n')
}

// space adds a word break unless one is already there.
func (p *pageText) space(next []byte) {
	n := len(p.b)
	if n == 0 || p.b[n-1] == ' ' || p.b[n-1] == '\n' || len(next) > 0 && next[0] == ' ' {
		return
	}
	p.b = append(p.b, ' ')
}
