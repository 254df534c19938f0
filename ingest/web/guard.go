package web

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"code.dny.dev/ssrf"

	"github.com/ragqueue/ragqueue"
)

// ErrBlocked is in the chain of every error for a fetch that the SSRF guard
// refused; test for it with errors.Is. The error itself is a *BlockedError.
var ErrBlocked = errors.New("web: fetch refused by the SSRF guard")

// maxRedirects is how many redirects a guarded client follows.
const maxRedirects = 5

// maxDialAddrs is how many of a host's resolved addresses a dial tries.
const maxDialAddrs = 8

// Default timeouts of the guarded transport.
const (
	defaultDialTimeout           = 10 * time.Second
	defaultTLSHandshakeTimeout   = 10 * time.Second
	defaultResponseHeaderTimeout = 30 * time.Second
	clientTimeout                = 2 * time.Minute // a backstop; fetches bound themselves with ctx
)

// allowHint ends the message of an address refusal: how to allow it.
const allowHint = " (set RAGQ_FETCH_ALLOW_CIDRS to allow it)"

// Resolver turns a host name into addresses. *net.Resolver implements it;
// tests use a fake to make a name resolve to a private address.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// GuardOptions configures the SSRF guard shared by every outbound fetch.
// The zero value is the safe default: public addresses on ports 80 and 443.
type GuardOptions struct {
	// AllowCIDRs are ranges that are fetched although they are private,
	// loopback and so on (RAGQ_FETCH_ALLOW_CIDRS; for development and
	// tests). Empty by default. See ParseAllowCIDRs.
	AllowCIDRs []netip.Prefix
	// AllowedPorts are the destination ports allowed; empty means 80 and 443.
	AllowedPorts []uint16
	// Resolver resolves host names; nil means net.DefaultResolver.
	Resolver Resolver
	// Timeouts; zero means the defaults (10 s to connect, 10 s for the TLS
	// handshake, 30 s for the response headers).
	DialTimeout           time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration
}

// BlockedError is the error for a fetch that the SSRF guard refused. It
// wraps ErrBlocked and a *ragqueue.Error with code EINVALID whose message
// (what ragqueue.ErrorMessage shows) says what was refused and why.
type BlockedError struct {
	URL    string // the URL or redirect hop refused; "" for a bare dial
	Reason string // why, for people: "10.0.0.5 is a private address (set …)"
}

// Error implements the error interface.
func (e *BlockedError) Error() string {
	return "web: " + e.message()
}

// message is the client-facing text.
func (e *BlockedError) message() string {
	if e.URL == "" {
		return "connecting is refused: " + e.Reason
	}
	return "fetching " + e.URL + " is refused: " + e.Reason
}

// Unwrap exposes ErrBlocked and the client-facing *ragqueue.Error.
func (e *BlockedError) Unwrap() []error {
	return []error{ErrBlocked, &ragqueue.Error{Code: ragqueue.EINVALID, Message: e.message()}}
}

// ParseAllowCIDRs parses the value of RAGQ_FETCH_ALLOW_CIDRS: ranges or
// single addresses separated by commas or spaces ("127.0.0.0/8, ::1").
// "" gives no ranges.
func ParseAllowCIDRs(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, codeErr(ragqueue.EINVALID, "the fetch allow-list entry %q is neither an address nor a CIDR range", f)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// NewTransport returns the SSRF-guarded transport: every dial resolves the
// host itself and checks the address it is about to connect to, in the
// dialer's Control hook, so DNS rebinding cannot slip past an earlier check;
// no proxy; compression is left to the caller; timeouts on connect, TLS
// handshake and response headers. Use NewClient unless you need the bare
// transport: the client also checks URLs and redirects before dialling.
func NewTransport(opts GuardOptions) *http.Transport {
	return newGuard(opts).transport()
}

// NewClient returns the SSRF-guarded client for every outbound fetch: the
// guarded transport, URL checks on every request and redirect hop (http and
// https only, allowed ports, no user info, no disguised numeric hosts), at
// most 5 redirects, and no cookie jar. A refusal is a *BlockedError.
func NewClient(opts GuardOptions) *http.Client {
	g := newGuard(opts)
	return &http.Client{
		Transport:     &guardedTransport{g: g, base: g.transport()},
		CheckRedirect: g.checkRedirect,
		Timeout:       clientTimeout,
	}
}

// guard holds the checks of one GuardOptions. It is immutable once built.
type guard struct {
	allow    []netip.Prefix
	ports    []uint16
	ssrf     *ssrf.Guardian
	resolver Resolver
	dialer   *net.Dialer
	opts     GuardOptions
}

// newGuard builds a guard from opts, filling in defaults.
func newGuard(opts GuardOptions) *guard {
	g := &guard{
		ports:    opts.AllowedPorts,
		ssrf:     ssrf.New(ssrf.WithAnyPort(), ssrf.WithAnyNetwork()),
		resolver: opts.Resolver,
		opts:     opts,
	}
	if len(g.ports) == 0 {
		g.ports = []uint16{80, 443}
	}
	for _, p := range opts.AllowCIDRs {
		if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
			p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
		}
		g.allow = append(g.allow, p.Masked())
	}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	g.dialer = &net.Dialer{
		Timeout:   orDefault(opts.DialTimeout, defaultDialTimeout),
		KeepAlive: 30 * time.Second,
		Control:   g.control,
	}
	return g
}

// orDefault returns d, or def when d is not positive.
func orDefault(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// transport builds an *http.Transport dialling through the guard.
func (g *guard) transport() *http.Transport {
	return &http.Transport{
		Proxy:                  nil, // a proxy would make the guard check the proxy, not the target
		DialContext:            g.dial,
		ForceAttemptHTTP2:      true,
		TLSHandshakeTimeout:    orDefault(g.opts.TLSHandshakeTimeout, defaultTLSHandshakeTimeout),
		ResponseHeaderTimeout:  orDefault(g.opts.ResponseHeaderTimeout, defaultResponseHeaderTimeout),
		ExpectContinueTimeout:  time.Second,
		IdleConnTimeout:        90 * time.Second,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    8,
		MaxResponseHeaderBytes: 1 << 20,
		DisableCompression:     true, // bodies are decoded by the caller, under a size cap
	}
}

// dial resolves host itself and connects to its addresses in turn; the
// Control hook checks each address at connect time. A name resolving only
// to refused addresses fails with a *BlockedError naming the name.
func (g *guard) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("web: dial %s: %w", addr, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, &BlockedError{Reason: fmt.Sprintf("port %q is not a port number", portStr)}
	}
	if !g.portAllowed(uint16(port)) {
		return nil, &BlockedError{Reason: g.portReason(uint16(port))}
	}
	var addrs []netip.Addr
	if ip, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{ip}
	} else {
		addrs, err = g.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("web: resolve %s: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("web: resolve %s: no addresses", host)
		}
	}
	var blocked, last error
	for _, ip := range addrs[:min(len(addrs), maxDialAddrs)] {
		ip = ip.Unmap() // resolvers may return IPv4 addresses in IPv6 form
		conn, err := g.dialer.DialContext(ctx, network, netip.AddrPortFrom(ip, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		if errors.Is(err, ErrBlocked) {
			if blocked == nil {
				blocked = &BlockedError{Reason: addrReason(host, ip, g.describe(ip))}
			}
			continue
		}
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	if last != nil {
		return nil, last
	}
	return nil, blocked
}

// control is the dialer's Control hook: it runs after the address is
// resolved and before the socket connects, for every connection.
func (g *guard) control(network, address string, _ syscall.RawConn) error {
	if network != "tcp4" && network != "tcp6" {
		return &BlockedError{Reason: fmt.Sprintf("the network %s is not allowed", network)}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &BlockedError{Reason: fmt.Sprintf("%q is not an address", address)}
	}
	if !g.portAllowed(ap.Port()) {
		return &BlockedError{Reason: g.portReason(ap.Port())}
	}
	if what := g.describe(ap.Addr()); what != "" {
		return &BlockedError{Reason: addrReason("", ap.Addr(), what)}
	}
	return nil
}

// describe says what kind of refused address ip is ("a private address"),
// or "" when ip may be fetched. IPv4-mapped IPv6 addresses are judged as
// the IPv4 address they map.
func (g *guard) describe(ip netip.Addr) string {
	ip = ip.WithZone("").Unmap()
	for _, p := range g.allow {
		if p.Contains(ip) {
			return ""
		}
	}
	if !ip.IsValid() {
		return "not a valid address"
	}
	if g.ssrf.SafeAddr(ip) == nil {
		return ""
	}
	for _, k := range addrKinds {
		if k.prefix.Contains(ip) {
			return k.what
		}
	}
	return "a special-purpose address"
}

// addrReason words an address refusal. host is the name that resolved to
// ip, or "" (or an address) when there was no name. IPv4-mapped addresses
// are shown as the IPv4 address they map.
func addrReason(host string, ip netip.Addr, what string) string {
	ip = ip.WithZone("").Unmap()
	if h, err := netip.ParseAddr(strings.Trim(host, "[]")); host == "" || err == nil && h.WithZone("").Unmap() == ip {
		return fmt.Sprintf("%s is %s%s", ip, what, allowHint)
	}
	return fmt.Sprintf("%s resolves to %s, %s%s", host, ip, what, allowHint)
}

// portAllowed reports whether connecting to port is allowed.
func (g *guard) portAllowed(port uint16) bool {
	return slices.Contains(g.ports, port)
}

// portReason words a port refusal.
func (g *guard) portReason(port uint16) string {
	list := make([]string, len(g.ports))
	for i, p := range g.ports {
		list[i] = strconv.Itoa(int(p))
	}
	return fmt.Sprintf("port %d is not allowed (allowed: %s)", port, strings.Join(list, ", "))
}

// checkRedirect is the guarded client's CheckRedirect: at most
// maxRedirects hops, each hop's URL checked like the first request's.
func (g *guard) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return codeErr(ragqueue.EINVALID, "fetching %s: stopped after %d redirects", redact(via[0].URL), maxRedirects)
	}
	return g.checkTarget(req.URL)
}

// checkTarget checks a URL before any connection: its form (see checkURL),
// an IP-literal host against the address rules, and its port.
func (g *guard) checkTarget(u *url.URL) error {
	if err := checkURL(u); err != nil {
		return err
	}
	host := u.Hostname()
	if ip, err := netip.ParseAddr(host); err == nil {
		if what := g.describe(ip); what != "" {
			return &BlockedError{URL: redact(u), Reason: addrReason(host, ip, what)}
		}
	}
	port := effectivePort(u)
	if port < 0 {
		return &BlockedError{URL: redact(u), Reason: fmt.Sprintf("port %q is not a port number", u.Port())}
	}
	if !g.portAllowed(uint16(port)) {
		return &BlockedError{URL: redact(u), Reason: g.portReason(uint16(port))}
	}
	return nil
}

// guardedTransport checks every request's URL (each redirect hop is a
// request) before handing it to the guarded *http.Transport, and names the
// URL in refusals that come from the dial.
type guardedTransport struct {
	g    *guard
	base *http.Transport
}

// RoundTrip implements http.RoundTripper.
func (t *guardedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := t.g.checkTarget(req.URL); err != nil {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, err
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		var be *BlockedError
		if errors.As(err, &be) && be.URL == "" {
			return nil, &BlockedError{URL: redact(req.URL), Reason: be.Reason}
		}
		return nil, err
	}
	return resp, nil
}

// CloseIdleConnections closes the base transport's idle connections.
func (t *guardedTransport) CloseIdleConnections() {
	t.base.CloseIdleConnections()
}

// addrKinds names the refused ranges for messages. The decision itself is
// code.dny.dev/ssrf's, which follows IANA's special-purpose registries; this
// constant table only words it. More specific prefixes come first.
var addrKinds = [...]struct {
	prefix netip.Prefix
	what   string
}{
	{netip.MustParsePrefix("0.0.0.0/8"), `a "this network" address`},
	{netip.MustParsePrefix("10.0.0.0/8"), "a private address"},
	{netip.MustParsePrefix("100.64.0.0/10"), "a shared (carrier-grade NAT) address"},
	{netip.MustParsePrefix("127.0.0.0/8"), "a loopback address"},
	{netip.MustParsePrefix("169.254.0.0/16"), "a link-local address (where cloud metadata services answer)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "a private address"},
	{netip.MustParsePrefix("192.168.0.0/16"), "a private address"},
	{netip.MustParsePrefix("192.0.2.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.51.100.0/24"), "a documentation address"},
	{netip.MustParsePrefix("203.0.113.0/24"), "a documentation address"},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address"},
	{netip.MustParsePrefix("224.0.0.0/4"), "a multicast address"},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address"},
	{netip.MustParsePrefix("::1/128"), "a loopback address"},
	{netip.MustParsePrefix("::/128"), "the unspecified address"},
	{netip.MustParsePrefix("fc00::/7"), "a private (unique local) address"},
	{netip.MustParsePrefix("fe80::/10"), "a link-local address"},
	{netip.MustParsePrefix("ff00::/8"), "a multicast address"},
	{netip.MustParsePrefix("64:ff9b::/96"), "a NAT64 address"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "a NAT64 address"},
	{netip.MustParsePrefix("2001::/32"), "a Teredo address"},
	{netip.MustParsePrefix("2001:db8::/32"), "a documentation address"},
	{netip.MustParsePrefix("2002::/16"), "a 6to4 address"},
}
