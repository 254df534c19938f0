package pdf

import (
	"errors"
	"io"
)

// This file is the tokenizer for PDF content streams and ToUnicode CMaps.
// ledongthuc/pdf has one, but it allocates for every token, cannot skip
// inline image data, and has no bound on what it reads or keeps, so the
// text extraction in text.go uses this one and the library only for the
// object graph (xref, dictionaries, stream filters).

// tokKind is the kind of a lexed token.
type tokKind uint8

const (
	tokEOF       tokKind = iota
	tokNum               // 12, -3.5
	tokStr               // (literal) or <hex>, decoded
	tokName              // /Name, without the slash, #xx decoded
	tokOp                // an operator or other bare keyword (Tj, true, null)
	tokArrOpen           // [
	tokArrClose          // ]
	tokDictOpen          // <<
	tokDictClose         // >>
)

// Lexer bounds. Real content never comes near them; hostile content that
// does is truncated rather than allowed to grow memory without limit.
const (
	lexBufSize   = 64 << 10 // read buffer
	maxTokenLen  = 1 << 20  // bytes kept of one string, name or keyword
	maxOperands  = 8192     // operands kept before an operator (the newest win)
	maxArenaSize = 16 << 20 // bytes of operand strings kept before an operator
	maxElems     = 1 << 16  // array elements kept before an operator
	maxNesting   = 32       // nesting of arrays and dictionaries in operands
)

// errStreamTooLarge reports a stream that decodes to more than its limit.
var errStreamTooLarge = errors.New("stream decodes past its limit")

// lexer splits a decoded stream into tokens. It reads at most limit bytes
// (when limit > 0) and then stops with errStreamTooLarge.
type lexer struct {
	src      io.Reader
	buf      []byte
	pos, end int
	srcDone  bool
	read     int64 // bytes taken from src
	limit    int64
	err      error // why lexing stopped early: errStreamTooLarge or a read error

	tok []byte  // the current token's bytes (string, name, keyword)
	num float64 // the current token's value when it is a number
}

// reset points the lexer at a new source, keeping its buffers.
func (lx *lexer) reset(src io.Reader, limit int64) {
	if lx.buf == nil {
		lx.buf = make([]byte, lexBufSize)
	}
	lx.src, lx.pos, lx.end, lx.srcDone, lx.read, lx.limit, lx.err = src, 0, 0, false, 0, limit, nil
}

// fill reads more input; it reports whether any byte is available.
func (lx *lexer) fill() bool {
	if lx.pos < lx.end {
		return true
	}
	if lx.srcDone {
		return false
	}
	lx.pos, lx.end = 0, 0
	for tries := 0; tries < 100; tries++ {
		n, err := lx.src.Read(lx.buf)
		if n > 0 {
			lx.read += int64(n)
			if lx.limit > 0 && lx.read > lx.limit {
				lx.err, lx.srcDone = errStreamTooLarge, true
				return false
			}
			lx.end = n
			return true
		}
		if err != nil {
			if err != io.EOF {
				lx.err = err
			}
			lx.srcDone = true
			return false
		}
	}
	lx.srcDone = true // a reader that keeps returning 0, nil
	return false
}

// peek returns the next byte without consuming it; ok is false at the end.
func (lx *lexer) peek() (byte, bool) {
	if lx.pos >= lx.end && !lx.fill() {
		return 0, false
	}
	return lx.buf[lx.pos], true
}

// readByte consumes and returns the next byte; ok is false at the end.
func (lx *lexer) readByte() (byte, bool) {
	if lx.pos >= lx.end && !lx.fill() {
		return 0, false
	}
	c := lx.buf[lx.pos]
	lx.pos++
	return c, true
}

// isSpace reports whether c is PDF white space.
func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

// isDelim reports whether c is a PDF delimiter.
func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

// isRegular reports whether c may be part of a keyword, number or name.
func isRegular(c byte) bool { return !isSpace(c) && !isDelim(c) }

// appendTok adds c to the current token, dropping bytes past maxTokenLen.
func (lx *lexer) appendTok(c byte) {
	if len(lx.tok) < maxTokenLen {
		lx.tok = append(lx.tok, c)
	}
}

// next returns the next token. Its bytes are in lx.tok and its number in
// lx.num, both valid until the next call.
func (lx *lexer) next() tokKind {
	lx.tok = lx.tok[:0]
	for {
		// Skip white space quickly within the buffer.
		for lx.pos < lx.end && isSpace(lx.buf[lx.pos]) {
			lx.pos++
		}
		c, ok := lx.readByte()
		if !ok {
			return tokEOF
		}
		switch c {
		case ' ', '\n', '\r', '\t', '\f', 0:
			continue
		case '%':
			lx.skipComment()
			continue
		case '(':
			lx.literalString()
			return tokStr
		case '<':
			if d, ok := lx.peek(); ok && d == '<' {
				lx.pos++
				return tokDictOpen
			}
			lx.hexString()
			return tokStr
		case '>':
			if d, ok := lx.peek(); ok && d == '>' {
				lx.pos++
				return tokDictClose
			}
			continue // a stray '>'
		case '[':
			return tokArrOpen
		case ']':
			return tokArrClose
		case '{', '}':
			lx.tok = append(lx.tok, c)
			return tokOp
		case ')':
			continue // a stray ')'
		case '/':
			lx.name()
			return tokName
		}
		lx.appendTok(c)
		for {
			d, ok := lx.peek()
			if !ok || !isRegular(d) {
				break
			}
			lx.pos++
			lx.appendTok(d)
		}
		if n, ok := parseNumber(lx.tok); ok {
			lx.num = n
			return tokNum
		}
		return tokOp
	}
}

// skipComment consumes the rest of a comment line.
func (lx *lexer) skipComment() {
	for {
		c, ok := lx.readByte()
		if !ok || c == '\n' || c == '\r' {
			return
		}
	}
}

// literalString reads a (string) after its opening parenthesis.
func (lx *lexer) literalString() {
	depth := 1
	for {
		c, ok := lx.readByte()
		if !ok {
			return
		}
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return
			}
		case '\\':
			c, ok = lx.readByte()
			if !ok {
				return
			}
			switch c {
			case 'n':
				c = '\n'
			case 'r':
				c = '\r'
			case 't':
				c = '\t'
			case 'b':
				c = '\b'
			case 'f':
				c = '\f'
			case '\r':
				if d, ok := lx.peek(); ok && d == '\n' {
					lx.pos++
				}
				continue
			case '\n':
				continue
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(c - '0')
				for i := 0; i < 2; i++ {
					d, ok := lx.peek()
					if !ok || d < '0' || d > '7' {
						break
					}
					lx.pos++
					v = v*8 + int(d-'0')
				}
				c = byte(v)
			}
		}
		lx.appendTok(c)
	}
}

// hexString reads a <hex string> after its opening bracket.
func (lx *lexer) hexString() {
	var hi byte
	half := false
	for {
		c, ok := lx.readByte()
		if !ok || c == '>' {
			break
		}
		v, ok := unhexByte(c)
		if !ok {
			continue // white space or junk
		}
		if half {
			lx.appendTok(hi<<4 | v)
		} else {
			hi = v
		}
		half = !half
	}
	if half {
		lx.appendTok(hi << 4)
	}
}

// unhexByte decodes one hex digit.
func unhexByte(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// name reads a /Name after its slash, decoding #xx escapes.
func (lx *lexer) name() {
	for {
		c, ok := lx.peek()
		if !ok || !isRegular(c) {
			return
		}
		lx.pos++
		if c == '#' {
			h, ok1 := lx.peek()
			hv, okh := unhexByte(h)
			if ok1 && okh {
				lx.pos++
				l, ok2 := lx.peek()
				if lv, okl := unhexByte(l); ok2 && okl {
					lx.pos++
					c = hv<<4 | lv
				} else {
					c = hv
				}
			}
		}
		lx.appendTok(c)
	}
}

// parseNumber parses a PDF number ([+-]digits[.digits]); ok is false when
// b is not one. Malformed signs and extra points are tolerated as readers do.
func parseNumber(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	i := 0
	neg := false
	for i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = neg != (b[i] == '-')
		i++
	}
	var v float64
	digits := 0
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		v = v*10 + float64(b[i]-'0')
		digits++
	}
	if i < len(b) && b[i] == '.' {
		i++
		scale := 0.1
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			v += float64(b[i]-'0') * scale
			scale /= 10
			digits++
		}
	}
	if digits == 0 || i != len(b) && !allDigitsOrPoints(b[i:]) {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

// allDigitsOrPoints reports whether b holds only digits and points, the
// tail of a malformed number such as 1.2.3.
func allDigitsOrPoints(b []byte) bool {
	for _, c := range b {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return true
}

// skipInlineImage consumes inline image data after the ID operator, up to
// and including the EI that ends it (EI between white space).
func (lx *lexer) skipInlineImage() {
	// One white-space byte follows ID.
	if c, ok := lx.peek(); ok && isSpace(c) {
		lx.pos++
	}
	var p1, p2 byte = ' ', ' ' // the two bytes before the current one
	for {
		c, ok := lx.readByte()
		if !ok {
			return
		}
		if p1 == 'E' && c == 'I' && isSpace(p2) {
			if d, ok := lx.peek(); !ok || isSpace(d) || isDelim(d) {
				return
			}
		}
		p2, p1 = p1, c
	}
}
