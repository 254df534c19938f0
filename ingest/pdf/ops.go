package pdf

// This file collects operands between operators: the stack machine shared
// by the content-stream interpreter (text.go) and the ToUnicode CMap
// reader (cmap.go).

// operand is one value on the operand stack. Strings, names and keywords
// point into the arena; arrays point into elems.
type operand struct {
	kind   tokKind // tokNum, tokStr, tokName, tokOp (true, null…), tokArrOpen (an array), tokDictOpen (a skipped dictionary)
	num    float64
	off, n int32
}

// operands is the operand stack with its backing storage. Everything is
// reset after each operator, so its memory is bounded by the lexer limits.
type operands struct {
	stack []operand
	elems []operand
	arena []byte
}

// clear empties the stack, keeping capacity.
func (o *operands) clear() {
	o.stack, o.elems, o.arena = o.stack[:0], o.elems[:0], o.arena[:0]
}

// bytesOf returns the bytes of a string, name or keyword operand.
func (o *operands) bytesOf(v operand) []byte {
	if v.kind == tokArrOpen || v.kind == tokDictOpen || v.kind == tokNum {
		return nil
	}
	return o.arena[v.off : v.off+v.n]
}

// array returns the elements of an array operand (nil for other kinds).
func (o *operands) array(v operand) []operand {
	if v.kind != tokArrOpen {
		return nil
	}
	return o.elems[v.off : v.off+v.n]
}

// top returns the last n operands, or nil when there are fewer.
func (o *operands) top(n int) []operand {
	if len(o.stack) < n {
		return nil
	}
	return o.stack[len(o.stack)-n:]
}

// nums fills dst with the last len(dst) operands, which must all be
// numbers; ok is false otherwise.
func (o *operands) nums(dst []float64) bool {
	args := o.top(len(dst))
	if args == nil {
		return false
	}
	for i, a := range args {
		if a.kind != tokNum {
			return false
		}
		dst[i] = a.num
	}
	return true
}

// push adds v, dropping the oldest half of the stack when it is full.
func (o *operands) push(v operand) {
	if len(o.stack) >= maxOperands {
		n := copy(o.stack, o.stack[len(o.stack)/2:])
		o.stack = o.stack[:n]
	}
	o.stack = append(o.stack, v)
}

// scalar makes an operand from the lexer's current token, copying its
// bytes into the arena. ok is false when the arena is full.
func (o *operands) scalar(lx *lexer, k tokKind) (operand, bool) {
	if k == tokNum {
		return operand{kind: tokNum, num: lx.num}, true
	}
	if len(o.arena)+len(lx.tok) > maxArenaSize {
		return operand{}, false
	}
	off := len(o.arena)
	o.arena = append(o.arena, lx.tok...)
	return operand{kind: k, off: int32(off), n: int32(len(lx.tok))}, true
}

// readArray reads an array's elements after its '['. Nested arrays and
// dictionaries become placeholders; content and CMaps never need them.
func (o *operands) readArray(lx *lexer) operand {
	var local [64]operand // elements are collected here, then copied to elems
	items := local[:0]
	for {
		k := lx.next()
		switch k {
		case tokEOF, tokArrClose:
			return o.storeElems(items)
		case tokArrOpen:
			skipNested(lx, 1, 0)
			items = appendBounded(items, operand{kind: tokArrOpen})
		case tokDictOpen:
			skipNested(lx, 0, 1)
			items = appendBounded(items, operand{kind: tokDictOpen})
		case tokDictClose:
		default:
			if v, ok := o.scalar(lx, k); ok {
				items = appendBounded(items, v)
			}
		}
	}
}

// appendBounded appends v unless items is at the element limit.
func appendBounded(items []operand, v operand) []operand {
	if len(items) >= maxElems {
		return items
	}
	return append(items, v)
}

// storeElems copies an array's elements into elems and returns its operand.
func (o *operands) storeElems(items []operand) operand {
	if len(o.elems)+len(items) > maxElems {
		return operand{kind: tokArrOpen}
	}
	off := len(o.elems)
	o.elems = append(o.elems, items...)
	return operand{kind: tokArrOpen, off: int32(off), n: int32(len(items))}
}

// skipNested consumes tokens until the given open arrays and dictionaries
// are closed (or the input ends), giving up on nesting past maxNesting.
func skipNested(lx *lexer, arrays, dicts int) {
	for arrays+dicts > 0 {
		switch lx.next() {
		case tokEOF:
			return
		case tokArrOpen:
			arrays++
		case tokArrClose:
			if arrays > 0 {
				arrays--
			}
		case tokDictOpen:
			dicts++
		case tokDictClose:
			if dicts > 0 {
				dicts--
			}
		}
		if arrays+dicts > maxNesting {
			arrays, dicts = 1, 0 // treat the rest as one flat array
		}
	}
}

// interpret runs a stream's operators: it collects operands, skips inline
// images, and calls exec with each operator (its operands on o's stack).
// It stops at the end of the input or when exec returns false.
func (o *operands) interpret(lx *lexer, exec func(op []byte) bool) {
	o.clear()
	for {
		k := lx.next()
		switch k {
		case tokEOF:
			return
		case tokArrOpen:
			o.push(o.readArray(lx))
		case tokDictOpen:
			skipNested(lx, 0, 1)
			o.push(operand{kind: tokDictOpen})
		case tokArrClose, tokDictClose:
		case tokOp:
			op := lx.tok
			switch string(op) {
			case "true", "false", "null":
				o.push(operand{kind: tokOp})
				continue
			case "BI":
				skipInlineImageDict(lx)
				o.clear()
				continue
			}
			if !exec(op) {
				return
			}
			o.clear()
		default:
			if v, ok := o.scalar(lx, k); ok {
				o.push(v)
			} else {
				o.clear() // the operands are garbage anyway
			}
		}
	}
}

// skipInlineImageDict consumes an inline image from after BI to after EI.
func skipInlineImageDict(lx *lexer) {
	for {
		switch lx.next() {
		case tokEOF:
			return
		case tokOp:
			if string(lx.tok) == "ID" {
				lx.skipInlineImage()
				return
			}
			if string(lx.tok) == "EI" {
				return
			}
		}
	}
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
