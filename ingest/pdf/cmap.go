package pdf

import (
	"io"
	"sort"
	"unicode/utf16"
	"unicode/utf8"
)

// CMap bounds: a ToUnicode CMap maps at most 64 Ki two-byte codes, so real
// ones stay far below these.
const (
	maxCMapBytes   = 8 << 20 // decoded size of one CMap stream
	maxCMapEntries = 1 << 18 // bfchar entries kept
	maxCMapRanges  = 1 << 14 // bfrange entries kept
)

// cmapRange is one bfrange: codes lo..hi map to dst incremented by the
// code's offset in the range, or to the strings of arr.
type cmapRange struct {
	lo, hi uint32
	dst    []byte   // UTF-16BE of lo's text
	arr    []string // per-code texts, when the range maps to an array
}

// toUnicode is a parsed ToUnicode CMap: font codes to text.
type toUnicode struct {
	chars  map[uint32]string
	ranges []cmapRange // sorted by lo
	// spaces[n-1] lists the n-byte codespace ranges, as [lo, hi] pairs.
	spaces [4][][2]uint32
}

// parseCMap reads a CMap stream (a ToUnicode map or an embedded encoding
// CMap, of which only the codespace is used).
func parseCMap(src io.Reader) *toUnicode {
	m := &toUnicode{chars: make(map[uint32]string)}
	var lx lexer
	lx.reset(src, maxCMapBytes)
	var o operands
	o.interpret(&lx, func(op []byte) bool {
		switch string(op) {
		case "endcodespacerange":
			args := o.stack
			for i := 0; i+1 < len(args); i += 2 {
				lo, hi := o.bytesOf(args[i]), o.bytesOf(args[i+1])
				if n := len(lo); n >= 1 && n <= 4 && len(hi) == n && args[i].kind == tokStr {
					m.spaces[n-1] = append(m.spaces[n-1], [2]uint32{codeValue(lo), codeValue(hi)})
				}
			}
		case "endbfchar":
			args := o.stack
			for i := 0; i+1 < len(args) && len(m.chars) < maxCMapEntries; i += 2 {
				src, dst := args[i], args[i+1]
				if src.kind != tokStr || dst.kind != tokStr {
					continue
				}
				if b := o.bytesOf(src); len(b) >= 1 && len(b) <= 4 {
					m.chars[codeValue(b)] = utf16Text(o.bytesOf(dst))
				}
			}
		case "endbfrange":
			args := o.stack
			for i := 0; i+2 < len(args) && len(m.ranges) < maxCMapRanges; i += 3 {
				m.addRange(&o, args[i], args[i+1], args[i+2])
			}
		}
		return true
	})
	sort.SliceStable(m.ranges, func(i, j int) bool { return m.ranges[i].lo < m.ranges[j].lo })
	return m
}

// addRange records one bfrange entry.
func (m *toUnicode) addRange(o *operands, loV, hiV, dstV operand) {
	lo, hi := o.bytesOf(loV), o.bytesOf(hiV)
	if loV.kind != tokStr || hiV.kind != tokStr || len(lo) < 1 || len(lo) > 4 || len(hi) != len(lo) {
		return
	}
	r := cmapRange{lo: codeValue(lo), hi: codeValue(hi)}
	if r.hi < r.lo || r.hi-r.lo > 0xFFFF {
		return
	}
	switch dstV.kind {
	case tokStr:
		r.dst = append([]byte(nil), o.bytesOf(dstV)...)
	case tokArrOpen:
		for _, e := range o.array(dstV) {
			if e.kind == tokStr {
				r.arr = append(r.arr, utf16Text(o.bytesOf(e)))
			} else {
				r.arr = append(r.arr, "")
			}
		}
	default:
		return
	}
	m.ranges = append(m.ranges, r)
}

// lookup returns the text of code; ok is false when the CMap lacks it.
func (m *toUnicode) lookup(code uint32) (string, bool) {
	if s, ok := m.chars[code]; ok {
		return s, true
	}
	// The last range starting at or before code that covers it wins.
	i := sort.Search(len(m.ranges), func(i int) bool { return m.ranges[i].lo > code })
	for j := i - 1; j >= 0 && j >= i-8; j-- {
		r := &m.ranges[j]
		if code > r.hi {
			continue
		}
		off := code - r.lo
		if r.arr != nil {
			if int(off) < len(r.arr) {
				return r.arr[off], true
			}
			return "", false
		}
		return utf16Text(incrementUTF16(r.dst, off)), true
	}
	return "", false
}

// codeLength returns the byte length of the code at the start of b per the
// codespace ranges, or 0 when none matches (or none are declared).
func (m *toUnicode) codeLength(b []byte) int {
	for n := 1; n <= 4 && n <= len(b); n++ {
		v := codeValue(b[:n])
		for _, sp := range m.spaces[n-1] {
			if v >= sp[0] && v <= sp[1] {
				return n
			}
		}
	}
	return 0
}

// hasCodespace reports whether the CMap declares any codespace range.
func (m *toUnicode) hasCodespace() bool {
	for _, s := range m.spaces {
		if len(s) > 0 {
			return true
		}
	}
	return false
}

// codeValue is the big-endian value of a code of up to four bytes.
func codeValue(b []byte) uint32 {
	var v uint32
	for _, c := range b {
		v = v<<8 | uint32(c)
	}
	return v
}

// incrementUTF16 adds off to the last UTF-16 unit of dst (carrying into the
// unit as a whole, as real CMaps expect when a range crosses a byte).
func incrementUTF16(dst []byte, off uint32) []byte {
	if off == 0 || len(dst) == 0 {
		return dst
	}
	out := append([]byte(nil), dst...)
	if len(out) == 1 {
		out[0] += byte(off)
		return out
	}
	n := len(out)
	u := uint32(out[n-2])<<8 | uint32(out[n-1])
	u += off
	out[n-2], out[n-1] = byte(u>>8), byte(u)
	return out
}

// utf16Text decodes UTF-16BE bytes as a CMap destination. A single byte is
// taken as Latin-1, as some producers write.
func utf16Text(b []byte) string {
	switch len(b) {
	case 0:
		return ""
	case 1:
		return string(rune(b[0]))
	}
	if len(b) == 2 && b[0] == 0 && b[1] < utf8.RuneSelf {
		return string(rune(b[1])) // the common case, without allocating a slice
	}
	units := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		units = append(units, uint16(b[i])<<8|uint16(b[i+1]))
	}
	return string(utf16.Decode(units))
}
