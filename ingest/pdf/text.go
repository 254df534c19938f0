package pdf

import (
	"errors"
	"io"
	"math"

	pdflib "github.com/ledongthuc/pdf"
)

// This file turns a page's content stream into text in drawing order. It
// tracks the text and graphics state (state.go) far enough to know where
// each string starts and ends on the page, and hands every string with that
// geometry to the page layout (layout.go), which decides where words, lines
// and paragraphs break.

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
	o.interpret(lx, func(op []byte) bool {
		x.exec(o, op)
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

// exec runs one operator, its operands on o's stack. Operators that do not
// bear on text (paths, colours, images) are ignored.
func (x *extractor) exec(o *operands, op []byte) {
	switch string(op) {
	case "q", "Q", "cm":
		x.execGraphicsState(o, op)
	case "BT", "Tf", "Tc", "Tw", "Tz", "TL", "Ts", "Td", "TD", "Tm", "T*":
		x.execTextState(o, op)
	case "Tj", "'", "\"", "TJ":
		x.execShow(o, op)
	case "Do":
		if args := o.top(1); args != nil && args[0].kind == tokName {
			x.drawForm(o.bytesOf(args[0]))
		}
	}
}

// execGraphicsState runs q, Q and cm: saving, restoring and transforming
// the graphics state.
func (x *extractor) execGraphicsState(o *operands, op []byte) {
	var a [6]float64
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
	}
}

// execTextState runs the operators that set the text state and position:
// BT, Tf, Tc, Tw, Tz, TL, Ts, Td, TD, Tm and T*.
func (x *extractor) execTextState(o *operands, op []byte) {
	var a [6]float64
	switch string(op) {
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
	}
}

// execShow runs the operators that draw strings: Tj, ', " and TJ.
func (x *extractor) execShow(o *operands, op []byte) {
	switch string(op) {
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
	}
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
