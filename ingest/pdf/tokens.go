package pdf

// This file reads the bodies of tokens for the lexer in lex.go: literal and
// hex strings, names with #xx escapes, numbers, and inline image data.

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
