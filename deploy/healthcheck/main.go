// Command healthcheck is the container health probe for the ragqueue image.
// The runtime image is distroless (no shell, no curl), so Docker's
// HEALTHCHECK and Compose's healthcheck run this instead: it asks the api in
// the same container for /healthz (or the path given as the only argument)
// on loopback, at the port of RAGQ_ADDR, and exits 0 on a 2xx answer, 1
// otherwise. Kubernetes does not need it: its httpGet probes do the same.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

// timeout bounds one probe; Docker's own timeout should be longer.
const timeout = 3 * time.Second

func main() {
	path := "/healthz"
	if len(os.Args) > 1 {
		path = os.Args[1]
	}
	url, err := probeURL(os.Getenv("RAGQ_ADDR"), path)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		err = probe(ctx, http.DefaultTransport, url)
		cancel()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// probeURL is the loopback URL of path on the port the api listens on:
// addr is RAGQ_ADDR (":8080" when empty). A wildcard or empty host becomes
// 127.0.0.1; an explicit host is kept, since the api listens only there.
func probeURL(addr, path string) (string, error) {
	if addr == "" {
		addr = ":8080"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("healthcheck: RAGQ_ADDR %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return "http://" + net.JoinHostPort(host, port) + path, nil
}

// probe GETs url and reports an error unless the answer is 2xx.
func probe(ctx context.Context, rt http.RoundTripper, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("healthcheck: GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}
