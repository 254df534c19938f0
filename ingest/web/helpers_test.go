package web

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// serve starts an httptest server for h listening on ip (a loopback
// address such as 127.0.0.2) and returns it with its port.
func serve(t testing.TB, ip string, h http.Handler) (*httptest.Server, uint16) {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, "0"))
	require.NoError(t, err)
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, port(t, l.Addr())
}

// port returns the port of a TCP address.
func port(t testing.TB, a net.Addr) uint16 {
	t.Helper()
	ap, err := netip.ParseAddrPort(a.String())
	require.NoError(t, err)
	return ap.Port()
}

// canary is a raw listener that counts the connections and bytes it gets.
// A refused fetch must leave it untouched.
type canary struct {
	addr  string
	port  uint16
	conns atomic.Int64
	bytes atomic.Int64
}

// newCanary starts a canary on ip.
func newCanary(t testing.TB, ip string) *canary {
	t.Helper()
	return newCanaryAt(t, ip, 0)
}

// newCanaryAt starts a canary on ip and port p (0: any).
func newCanaryAt(t testing.TB, ip string, p uint16) *canary {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(int(p))))
	require.NoError(t, err)
	c := &canary{addr: l.Addr().String(), port: port(t, l.Addr())}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			c.conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(2 * time.Second))
				n, _ := io.Copy(io.Discard, conn)
				c.bytes.Add(n)
			}()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	return c
}

// untouched asserts the canary got no connection and no byte.
func (c *canary) untouched(t testing.TB) {
	t.Helper()
	require.Zero(t, c.conns.Load(), "the canary at %s was connected to", c.addr)
	require.Zero(t, c.bytes.Load(), "the canary at %s got bytes", c.addr)
}

// fakeResolver resolves names from a table, and localhost as the system
// does; other names fail.
type fakeResolver struct {
	mu    sync.Mutex
	names map[string][]netip.Addr
	calls map[string]int
	next  map[string][]netip.Addr // answers for later lookups (DNS rebinding)
}

// LookupNetIP implements Resolver.
func (r *fakeResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = make(map[string]int)
	}
	r.calls[host]++
	if r.calls[host] > 1 {
		if a, ok := r.next[host]; ok {
			return a, nil
		}
	}
	if a, ok := r.names[host]; ok {
		return a, nil
	}
	if host == "localhost" {
		return net.DefaultResolver.LookupNetIP(context.Background(), "ip", host) // /etc/hosts
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// addrs parses addresses for a fakeResolver table.
func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// prefixes parses CIDR ranges.
func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// requireBlocked asserts err is a guard refusal with a message containing
// each of want.
func requireBlocked(t testing.TB, err error, want ...string) {
	t.Helper()
	require.Error(t, err)
	require.True(t, errors.Is(err, ErrBlocked), "not a refusal: %v", err)
	var be *BlockedError
	require.True(t, errors.As(err, &be), "%v", err)
	msg := errMessage(err)
	require.Contains(t, msg, "is refused: ")
	for _, w := range want {
		require.Contains(t, msg, w)
	}
}

// urlOf renders http://ip:port/path.
func urlOf(ip string, p uint16, path string) string {
	return "http://" + net.JoinHostPort(ip, strconv.Itoa(int(p))) + path
}
