package web

import (
	"fmt"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/ragqueue/ragqueue"
)

// maxURLBytes caps the URLs this package accepts.
const maxURLBytes = 8192

// NormalizeURL puts an absolute http(s) URL in the canonical form used to
// tell pages apart: scheme and host lowercased (international names in
// their ASCII form), default port removed, fragment dropped, percent-escapes
// upper-cased and unreserved characters unescaped, dot segments resolved, an
// empty path made "/". The query is kept as it is, in its order. Anything
// that is not an absolute http or https URL is an EINVALID error.
func NormalizeURL(raw string) (string, error) {
	u, err := parseHTTPURL(raw)
	if err != nil {
		return "", err
	}
	return normalizeParsed(u)
}

// parseHTTPURL parses raw with net/url (the parser the HTTP client uses) and
// requires an absolute http or https URL with a host.
func parseHTTPURL(raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) > maxURLBytes {
		return nil, codeErr(ragqueue.EINVALID, "the URL is longer than %d bytes", maxURLBytes)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, codeErr(ragqueue.EINVALID, "%s is not a valid URL", quoteURL(raw))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return nil, codeErr(ragqueue.EINVALID, "%s is not an absolute URL (it needs http:// or https://)", quoteURL(raw))
		}
		return nil, codeErr(ragqueue.EINVALID, "%s is not an http or https URL", quoteURL(raw))
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return nil, codeErr(ragqueue.EINVALID, "%s has no host", quoteURL(raw))
	}
	return u, nil
}

// normalizeParsed is NormalizeURL for a URL parseHTTPURL accepted.
func normalizeParsed(u *url.URL) (string, error) {
	host := strings.ToLower(u.Hostname())
	if !isASCII(host) {
		h, err := idna.Lookup.ToASCII(host)
		if err != nil {
			return "", codeErr(ragqueue.EINVALID, "the host of %s is not a valid name", quoteURL(u.String()))
		}
		host = h
	}
	if strings.Contains(host, ":") { // an IPv6 literal, perhaps with a zone
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return "", codeErr(ragqueue.EINVALID, "the host of %s is not a valid address", quoteURL(u.String()))
		}
		host = "[" + strings.Replace(ip.String(), "%", "%25", 1) + "]" // RFC 5952 form, as WHATWG parsers (colly) write it
	} else if !validHostName(host) {
		return "", codeErr(ragqueue.EINVALID, "the host of %s is not a valid name", quoteURL(u.String()))
	}
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return "", codeErr(ragqueue.EINVALID, "the port of %s is not a port number", quoteURL(u.String()))
		}
		if !(u.Scheme == "http" && n == 80 || u.Scheme == "https" && n == 443) {
			host += ":" + strconv.FormatUint(n, 10)
		}
	}
	var b strings.Builder
	b.WriteString(u.Scheme)
	b.WriteString("://")
	if u.User != nil {
		b.WriteString(u.User.String())
		b.WriteByte('@')
	}
	b.WriteString(host)
	path := removeDotSegments(normalizeEscapes(u.EscapedPath(), true))
	if path == "" {
		path = "/"
	}
	b.WriteString(path)
	if u.RawQuery != "" {
		b.WriteByte('?')
		b.WriteString(normalizeEscapes(u.RawQuery, false))
	}
	return b.String(), nil
}

// validHostName reports whether a lower-cased ASCII host is made of what
// DNS names (and the underscores some use) are made of.
func validHostName(h string) bool {
	if h == "" || len(h) > 253+1 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// isASCII reports whether s is all ASCII.
func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// normalizeEscapes upper-cases the hex digits of percent-escapes and, when
// decode is set, unescapes those of unreserved characters (RFC 3986 §6.2.2).
// Malformed escapes are left alone.
func normalizeEscapes(s string, decode bool) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '%' || i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			b.WriteByte(c)
			continue
		}
		v := unhex(s[i+1])<<4 | unhex(s[i+2])
		if decode && isUnreserved(v) {
			b.WriteByte(v)
		} else {
			b.WriteByte('%')
			b.WriteByte(upperHex(s[i+1]))
			b.WriteByte(upperHex(s[i+2]))
		}
		i += 2
	}
	return b.String()
}

// isHex reports whether c is a hexadecimal digit.
func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// unhex returns the value of the hexadecimal digit c.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// upperHex upper-cases a hexadecimal digit.
func upperHex(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

// isUnreserved reports whether c is an RFC 3986 unreserved character.
func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// removeDotSegments resolves "." and ".." segments of an absolute path
// (RFC 3986 §5.2.4). Empty segments ("//") are kept.
func removeDotSegments(p string) string {
	if !strings.HasPrefix(p, "/") || !strings.Contains(p, "/.") {
		return p
	}
	segs := strings.Split(p[1:], "/")
	out := make([]string, 0, len(segs))
	for i, s := range segs {
		last := i == len(segs)-1
		switch s {
		case ".":
			if last {
				out = append(out, "")
			}
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
			if last {
				out = append(out, "")
			}
		default:
			out = append(out, s)
		}
	}
	return "/" + strings.Join(out, "/")
}

// checkURL refuses URL forms that are never fetched, before any
// connection: schemes other than http and https, user info, an empty host,
// and hosts that are numbers in a form other than the standard dotted quad
// ("2130706433", "0x7f.1", "0"), which some parsers read as addresses and
// others as names. Refusals are *BlockedError.
func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		what := "no scheme"
		if u.Scheme != "" {
			what = fmt.Sprintf("the scheme %q", u.Scheme)
		}
		return &BlockedError{URL: redact(u), Reason: what + " is not allowed; only http and https URLs are fetched"}
	}
	if u.User != nil {
		return &BlockedError{URL: redact(u), Reason: "URLs with a user name or password are not fetched"}
	}
	host := u.Hostname()
	if u.Opaque != "" || host == "" {
		return &BlockedError{URL: redact(u), Reason: "the URL has no host"}
	}
	if strings.Contains(host, ":") || !endsInNumber(host) {
		return nil // a name, or an IPv6 literal (checked as an address)
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Is4() {
		return nil // a standard dotted quad (checked as an address)
	}
	ip, ok := parseLegacyIPv4(host)
	if !ok {
		return &BlockedError{URL: redact(u), Reason: fmt.Sprintf("the host %q looks like a number but is not a valid address", host)}
	}
	what := ""
	if w := defaultDescribe(ip); w != "" {
		what = " (" + w + ")"
	}
	return &BlockedError{URL: redact(u), Reason: fmt.Sprintf(
		"the host %q is a non-standard way of writing %s%s; only standard dotted addresses are fetched", host, ip, what)}
}

// defaultDescribe is guard.describe with no allow-list.
func defaultDescribe(ip netip.Addr) string {
	return newGuard(GuardOptions{}).describe(ip)
}

// endsInNumber reports whether the last label of host is a number (decimal
// digits, or 0x and hex digits): such a host is an IPv4 address to WHATWG
// URL parsers (and so to colly and to browsers).
func endsInNumber(host string) bool {
	labels := strings.Split(host, ".")
	if len(labels) > 1 && labels[len(labels)-1] == "" {
		labels = labels[:len(labels)-1]
	}
	last := labels[len(labels)-1]
	if last == "" {
		return false
	}
	if allDigits(last, 10) {
		return true
	}
	if len(last) >= 2 && last[0] == '0' && (last[1] == 'x' || last[1] == 'X') {
		return allDigits(last[2:], 16)
	}
	return false
}

// allDigits reports whether s is all digits of the base (10 or 16); "" is.
func allDigits(s string, base int) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || base == 16 && isHex(c)) {
			return false
		}
	}
	return true
}

// parseLegacyIPv4 reads host as the WHATWG URL standard (and inet_aton) do:
// one to four dot-separated parts in decimal, octal (leading 0) or hex (0x),
// the last part filling the remaining bytes.
func parseLegacyIPv4(host string) (netip.Addr, bool) {
	parts := strings.Split(host, ".")
	if len(parts) > 1 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		if p == "" {
			return netip.Addr{}, false
		}
		base := 10
		switch {
		case len(p) >= 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'X'):
			p, base = p[2:], 16
			if p == "" {
				p = "0"
			}
		case len(p) >= 2 && p[0] == '0':
			p, base = p[1:], 8
		}
		n, err := strconv.ParseUint(p, base, 64)
		if err != nil {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	last := len(nums) - 1
	for _, n := range nums[:last] {
		if n > 255 {
			return netip.Addr{}, false
		}
	}
	if nums[last] >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v := nums[last]
	for i, n := range nums[:last] {
		v |= n << (8 * (3 - i))
	}
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// effectivePort returns u's port, or the scheme's default; -1 when the port
// is not a number.
func effectivePort(u *url.URL) int {
	if p := u.Port(); p != "" {
		n, err := strconv.ParseUint(p, 10, 16)
		if err != nil {
			return -1
		}
		return int(n)
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}

// redact renders u for messages, with any password hidden.
func redact(u *url.URL) string {
	return u.Redacted()
}

// quoteURL quotes a client-supplied URL for a message, cut to a sane length.
func quoteURL(s string) string {
	const max = 200
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}
