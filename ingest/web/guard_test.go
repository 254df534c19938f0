package web

import (
	"context"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

// errMessage is the client-facing message of err.
func errMessage(err error) string { return ragqueue.ErrorMessage(err) }

func TestDescribe(t *testing.T) {
	t.Parallel()
	g := newGuard(GuardOptions{})
	refused := map[string]string{
		"127.0.0.1":              "loopback",
		"127.255.0.9":            "loopback",
		"0.0.0.0":                "this network",
		"0.1.2.3":                "this network",
		"10.0.0.5":               "private",
		"172.16.0.1":             "private",
		"172.31.255.255":         "private",
		"192.168.1.1":            "private",
		"100.64.0.1":             "carrier-grade NAT",
		"169.254.169.254":        "link-local",
		"224.0.0.1":              "multicast",
		"239.255.255.250":        "multicast",
		"240.0.0.1":              "reserved",
		"255.255.255.255":        "reserved",
		"192.0.2.1":              "documentation",
		"198.18.0.1":             "benchmarking",
		"::1":                    "loopback",
		"::":                     "unspecified",
		"fc00::1":                "unique local",
		"fd12:3456::1":           "unique local",
		"fe80::1":                "link-local",
		"fe80::1%eth0":           "link-local",
		"ff02::1":                "multicast",
		"::ffff:127.0.0.1":       "loopback",
		"::ffff:10.0.0.5":        "private",
		"::ffff:169.254.169.254": "link-local",
		"64:ff9b::a00:5":         "NAT64",
		"2002:a00:5::1":          "6to4",
		"2001:0:a00:5::1":        "Teredo",
		"2001:db8::1":            "documentation",
		"::127.0.0.1":            "special-purpose",
	}
	for s, want := range refused {
		require.Contains(t, g.describe(netip.MustParseAddr(s)), want, s)
	}
	for _, s := range []string{"8.8.8.8", "1.1.1.1", "93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"} {
		require.Empty(t, g.describe(netip.MustParseAddr(s)), s)
	}

	allow := newGuard(GuardOptions{AllowCIDRs: prefixes("127.0.0.0/8", "::ffff:10.0.0.0/104")})
	require.Empty(t, allow.describe(netip.MustParseAddr("127.0.0.2")))
	require.Empty(t, allow.describe(netip.MustParseAddr("::ffff:127.0.0.2")), "a mapped address is judged as what it maps")
	require.Empty(t, allow.describe(netip.MustParseAddr("10.1.2.3")), "a mapped allow-list range covers the IPv4 range")
	require.NotEmpty(t, allow.describe(netip.MustParseAddr("::1")))
	require.NotEmpty(t, allow.describe(netip.MustParseAddr("192.168.0.1")))
}

func TestParseAllowCIDRs(t *testing.T) {
	t.Parallel()
	got, err := ParseAllowCIDRs(" 127.0.0.0/8, ::1 10.1.2.3/16")
	require.NoError(t, err)
	require.Equal(t, prefixes("127.0.0.0/8", "::1/128", "10.1.0.0/16"), got)
	got, err = ParseAllowCIDRs("")
	require.NoError(t, err)
	require.Empty(t, got)
	_, err = ParseAllowCIDRs("127.0.0.0/8,localhost")
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.Contains(t, errMessage(err), `"localhost"`)
}

// TestSSRF fetches, with the allow-list empty, every form of "this
// machine" we know, plus refused schemes and a name resolving to a private
// address: each is refused with a clear message, through Fetch, through the
// bare client and through Crawl, and the canary listening there is never
// connected to.
func TestSSRF(t *testing.T) {
	t.Parallel()
	can := newCanary(t, "127.0.0.1")
	p := can.port
	res := &fakeResolver{names: map[string][]netip.Addr{"intranet.test": addrs("127.0.0.1"), "metadata.test": addrs("::ffff:127.0.0.1")}}
	opts := GuardOptions{AllowedPorts: []uint16{p}, Resolver: res} // the port is allowed: the address must be what is refused
	client := NewClient(opts)
	f := NewFetcher(client, FetchOptions{Timeout: 10 * time.Second})

	cases := []struct {
		url  string
		want []string
	}{
		{urlOf("127.0.0.1", p, "/"), []string{"127.0.0.1 is a loopback address", "RAGQ_FETCH_ALLOW_CIDRS"}},
		{urlOf("localhost", p, "/"), []string{"localhost resolves to 127.0.0.1, a loopback address"}},
		{urlOf("::ffff:127.0.0.1", p, "/"), []string{"127.0.0.1 is a loopback address"}},
		{urlOf("2130706433", p, "/"), []string{`"2130706433" is a non-standard way of writing 127.0.0.1 (a loopback address)`}},
		{urlOf("0", p, "/"), []string{`"0" is a non-standard way of writing 0.0.0.0`}},
		{urlOf("0x7f.1", p, "/"), []string{`"0x7f.1" is a non-standard way of writing 127.0.0.1`}},
		{urlOf("017700000001", p, "/"), []string{"127.0.0.1"}},
		{urlOf("127.1", p, "/"), []string{"127.0.0.1"}},
		{urlOf("127.0.0.1.", p, "/x"), []string{"127.0.0.1"}},
		{urlOf("１２７.０.０.１", p, "/"), []string{"127.0.0.1 is a loopback address"}}, // fullwidth digits, mapped by IDNA
		{urlOf("０x7f.1", p, "/"), []string{`"０x7f.1" looks like a number but is not a valid address`}},
		{"file:///etc/passwd", []string{`the scheme "file" is not allowed`}},
		{urlOf("127.0.0.1", p, "/")[:4] + "x" + urlOf("127.0.0.1", p, "/")[4:], []string{`"httpx" is not allowed`}},
		{"gopher://127.0.0.1:" + itoa(p) + "/_GET", []string{`the scheme "gopher" is not allowed`}},
		{"http://user:secret@127.0.0.1:" + itoa(p) + "/", []string{"user name or password"}},
		{"http:///path", []string{"no host"}},
		{urlOf("intranet.test", p, "/"), []string{"intranet.test resolves to 127.0.0.1, a loopback address"}},
		{urlOf("metadata.test", p, "/"), []string{"metadata.test resolves to 127.0.0.1, a loopback address"}},
	}
	ctx := context.Background()
	for _, tc := range cases {
		_, err := f.Fetch(ctx, tc.url)
		requireBlocked(t, err, tc.want...)
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), tc.url)
		require.NotContains(t, errMessage(err), "secret", "passwords are not echoed")
	}

	// The bare client refuses the same URLs (those it can parse).
	for _, u := range []string{urlOf("127.0.0.1", p, "/"), urlOf("localhost", p, "/"), urlOf("::ffff:127.0.0.1", p, "/"),
		urlOf("2130706433", p, "/"), urlOf("0x7f.1", p, "/"), urlOf("intranet.test", p, "/"), "gopher://127.0.0.1:" + itoa(p) + "/"} {
		resp, err := client.Get(u)
		if resp != nil {
			resp.Body.Close()
		}
		requireBlocked(t, err)
	}

	// And so does a crawl, counting them as blocked.
	var seeds []string
	for _, tc := range cases {
		seeds = append(seeds, tc.url)
	}
	var msgs []string
	stats, err := Crawl(ctx, client, f, CrawlRequest{Seeds: seeds}, func(Page) error {
		t.Error("a refused seed was fetched")
		return nil
	}, func(u string, err error) {
		requireBlocked(t, err)
		msgs = append(msgs, errMessage(err))
	})
	require.NoError(t, err)
	// The fullwidth 127.0.0.1 normalises to a seed already met.
	require.Equal(t, len(cases)-1, stats.Blocked, "%q", msgs)
	require.Zero(t, stats.Fetched+stats.Failed)

	can.untouched(t)
}

// itoa renders a port.
func itoa(p uint16) string { return strconv.Itoa(int(p)) }

// TestControlHook checks that the dial-time check stands on its own: a
// bare transport (no URL checks in front of it) refuses to connect.
func TestControlHook(t *testing.T) {
	t.Parallel()
	can := newCanary(t, "127.0.0.1")
	g := newGuard(GuardOptions{AllowedPorts: []uint16{can.port}})
	_, err := g.dialer.DialContext(context.Background(), "tcp", can.addr)
	requireBlocked(t, err, "127.0.0.1 is a loopback address")

	tr := NewTransport(GuardOptions{AllowedPorts: []uint16{can.port}})
	require.Nil(t, tr.Proxy, "a proxy would be checked instead of the target")
	require.True(t, tr.DisableCompression)
	resp, err := (&http.Client{Transport: tr}).Get("http://" + can.addr + "/")
	if resp != nil {
		resp.Body.Close()
	}
	requireBlocked(t, err, "127.0.0.1 is a loopback address")

	// The port rule holds at dial time too.
	g = newGuard(GuardOptions{AllowCIDRs: prefixes("127.0.0.0/8")})
	_, err = g.dialer.DialContext(context.Background(), "tcp", can.addr)
	requireBlocked(t, err, "is not allowed (allowed: 80, 443)")
	can.untouched(t)
}

// TestRedirectRechecked: a page on an allow-listed address redirects to one
// that is not; the hop is refused before any connection.
func TestRedirectRechecked(t *testing.T) {
	t.Parallel()
	can := newCanary(t, "127.0.0.3")
	target := urlOf("127.0.0.3", can.port, "/secret")
	_, p2 := serve(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/to-ip":
			http.Redirect(w, r, target, http.StatusFound)
		case "/to-name":
			http.Redirect(w, r, urlOf("rebind.test", can.port, "/"), http.StatusMovedPermanently)
		case "/to-file":
			http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
		case "/loop":
			http.Redirect(w, r, "/loop?"+r.URL.RawQuery+"x", http.StatusFound)
		}
	}))
	res := &fakeResolver{names: map[string][]netip.Addr{"rebind.test": addrs("127.0.0.3")}}
	client := NewClient(GuardOptions{AllowCIDRs: prefixes("127.0.0.2/32"), AllowedPorts: []uint16{p2, can.port}, Resolver: res})
	f := NewFetcher(client, FetchOptions{})
	ctx := context.Background()

	_, err := f.Fetch(ctx, urlOf("127.0.0.2", p2, "/to-ip"))
	requireBlocked(t, err, "fetching "+target+" is refused: 127.0.0.3 is a loopback address")
	_, err = f.Fetch(ctx, urlOf("127.0.0.2", p2, "/to-name"))
	requireBlocked(t, err, "rebind.test resolves to 127.0.0.3, a loopback address")
	_, err = f.Fetch(ctx, urlOf("127.0.0.2", p2, "/to-file"))
	requireBlocked(t, err, `the scheme "file" is not allowed`)
	_, err = f.Fetch(ctx, urlOf("127.0.0.2", p2, "/loop"))
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.Contains(t, errMessage(err), "stopped after 5 redirects")

	// The same through a crawl, with the canary's host among the crawl's
	// hosts so that only the guard stands in the way.
	var msgs []string
	stats, err := Crawl(ctx, client, f, CrawlRequest{
		Seeds:           []string{urlOf("127.0.0.2", p2, "/to-ip"), urlOf("127.0.0.2", p2, "/to-name"), urlOf("127.0.0.2", p2, "/to-file")},
		AllowedHosts:    []string{"127.0.0.3", "rebind.test"},
		IgnoreRobotsTxt: true,
	}, nil, func(_ string, err error) {
		requireBlocked(t, err)
		msgs = append(msgs, errMessage(err))
	})
	require.NoError(t, err)
	require.Equal(t, CrawlStats{Blocked: 3}, stats, "%q", msgs)
	can.untouched(t)
}

// TestDNSRebinding: a name that first resolves to an allowed address and
// then to a refused one is refused on the second connection: the check is
// made on every dial, on the address dialled.
func TestDNSRebinding(t *testing.T) {
	t.Parallel()
	_, p2 := serve(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Write([]byte("hello from the allowed address"))
	}))
	can := newCanaryAt(t, "127.0.0.3", p2) // where the second answer points
	res := &fakeResolver{
		names: map[string][]netip.Addr{"rebind.test": addrs("127.0.0.2")},
		next:  map[string][]netip.Addr{"rebind.test": addrs("127.0.0.3")},
	}
	client := NewClient(GuardOptions{AllowCIDRs: prefixes("127.0.0.2/32"), AllowedPorts: []uint16{p2, can.port}, Resolver: res})
	f := NewFetcher(client, FetchOptions{})
	page, err := f.Fetch(context.Background(), urlOf("rebind.test", p2, "/"))
	require.NoError(t, err)
	require.Equal(t, "hello from the allowed address", page.Parsed.Sections[0].Text)

	client.CloseIdleConnections() // force a new dial
	_, err = f.Fetch(context.Background(), urlOf("rebind.test", p2, "/"))
	requireBlocked(t, err, "rebind.test resolves to 127.0.0.3, a loopback address")
	require.True(t, errors.Is(err, ErrBlocked))
	can.untouched(t)
}

func TestPortRule(t *testing.T) {
	t.Parallel()
	can := newCanary(t, "127.0.0.1")
	f := NewFetcher(NewClient(GuardOptions{AllowCIDRs: prefixes("127.0.0.0/8")}), FetchOptions{})
	_, err := f.Fetch(context.Background(), "http://"+can.addr+"/")
	requireBlocked(t, err, "port "+itoa(can.port)+" is not allowed (allowed: 80, 443)")
	can.untouched(t)
}
