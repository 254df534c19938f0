package web

import (
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func TestNormalizeURL(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"HTTP://Example.COM":                      "http://example.com/",
		" http://example.com/a ":                  "http://example.com/a",
		"http://example.com:80/a":                 "http://example.com/a",
		"http://example.com:080/a":                "http://example.com/a",
		"https://example.com:443/":                "https://example.com/",
		"https://example.com:80/":                 "https://example.com:80/",
		"http://example.com:8080":                 "http://example.com:8080/",
		"http://example.com/a/./b/../c":           "http://example.com/a/c",
		"http://example.com/a/..":                 "http://example.com/",
		"http://example.com/../../a":              "http://example.com/a",
		"http://example.com/a/%2E%2E/b":           "http://example.com/b",
		"http://example.com/a//b/":                "http://example.com/a//b/",
		"http://example.com/a#frag":               "http://example.com/a",
		"http://example.com/#":                    "http://example.com/",
		"http://example.com/?":                    "http://example.com/",
		"http://example.com/?b=2&a=1&b=1":         "http://example.com/?b=2&a=1&b=1",
		"http://example.com/%7euser/%2f?q=%aa":    "http://example.com/~user/%2F?q=%AA",
		"http://example.com/caf%C3%A9":            "http://example.com/caf%C3%A9",
		"http://example.com/café":                 "http://example.com/caf%C3%A9",
		"http://example.com/a b":                  "http://example.com/a%20b",
		"http://[0:0::1]:8080/":                   "http://[::1]:8080/",
		"http://[::FFFF:127.0.0.1]/":              "http://[::ffff:127.0.0.1]/",
		"http://Bücher.example/":                  "http://xn--bcher-kva.example/",
		"http://127.0.0.1:8080/x?y#z":             "http://127.0.0.1:8080/x?y",
		"https://EXAMPLE.com/Path/Keeps/Case?Q=V": "https://example.com/Path/Keeps/Case?Q=V",
	}
	for in, want := range cases {
		got, err := NormalizeURL(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
		again, err := NormalizeURL(got)
		require.NoError(t, err, got)
		require.Equal(t, got, again, "not idempotent")
	}
	for _, in := range []string{"", "ftp://example.com/", "/relative", "example.com/a", "http://", "http:///a", "mailto:x@example.com",
		"http://example.com:99999/", "javascript:alert(1)", "http://exa mple.com/", "http://" + strings.Repeat("a", 9000)} {
		_, err := NormalizeURL(in)
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), "%q: %v", in, err)
	}
}

func TestParseLegacyIPv4(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"2130706433":    "127.0.0.1",
		"0x7f.1":        "127.0.0.1",
		"0177.0.0.1":    "127.0.0.1",
		"127.1":         "127.0.0.1",
		"127.0.1":       "127.0.0.1",
		"0":             "0.0.0.0",
		"0x":            "0.0.0.0",
		"10.0.0.5.":     "10.0.0.5",
		"0xA9.0xFEA9FE": "169.254.169.254",
	} {
		ip, ok := parseLegacyIPv4(in)
		require.True(t, ok, in)
		require.Equal(t, want, ip.String(), in)
		require.True(t, endsInNumber(in), in)
	}
	for _, in := range []string{"1.2.3.4.5", "256.1.1.1", "1.2.3.256", "4294967296", "08", "0x1g", "1..2"} {
		_, ok := parseLegacyIPv4(in)
		require.False(t, ok, in)
	}
	for _, in := range []string{"example.com", "1.example", "0x7f.com", "a1", "foo.0xg"} {
		require.False(t, endsInNumber(in), in)
	}
}

// FuzzNormalizeURL checks that NormalizeURL never panics and that what it
// returns is an absolute http(s) URL without a fragment that net/url parses
// and that normalises to itself.
func FuzzNormalizeURL(f *testing.F) {
	for _, s := range []string{
		"http://example.com/", "HTTPS://EXAMPLE.COM:443/a/./b/../c?x=1#f", "http://[::1]:8080/%7e",
		"http://bücher.example/ä?ö#ü", "http://a/%2e%2E/%zz?%zz", "http://user:pw@h/", "http://h/a//../b",
		"http://[fe80::1%25eth0]/", "http://0x7f.1/", "http://h:0/", "http://h/?#", "http://h/;p?q",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeURL(in)
		if err != nil {
			require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
			return
		}
		u, err := url.Parse(out)
		require.NoError(t, err, "%q → %q", in, out)
		require.Contains(t, []string{"http", "https"}, u.Scheme)
		require.NotEmpty(t, u.Hostname())
		require.NotContains(t, out, "#")
		again, err := NormalizeURL(out)
		require.NoError(t, err, "%q → %q", in, out)
		require.Equal(t, out, again, "%q is not idempotent", in)
	})
}
