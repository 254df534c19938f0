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
