package pdf

import (
	"math"
	"strings"

	pdflib "github.com/ledongthuc/pdf"
)

// This file reads the references in a dictionary without resolving them,
// from the way the library prints it, so that fonts already loaded are
// found by reference alone.

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
