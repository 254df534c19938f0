package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The load test: loadClients concurrent clients on loopback, half of them
// searching (GET /v1/search), half asking sync questions (POST /v1/queries),
// for RAGQ_LOAD_SECONDS (default loadDefaultSeconds), against an api with
// real Redis and PostgreSQL running its workers in process.
const (
	loadClients        = 200
	loadDefaultSeconds = 5
	loadRequestTimeout = 30 * time.Second
	loadDocuments      = 30
)

// loadStats are one kind of request's outcomes.
type loadStats struct {
	ok, throttled, failed int
	latencies             []time.Duration // of the ok requests
	samples               []string        // a few failures, for the message
}

func (s *loadStats) percentile(p float64) time.Duration {
	if len(s.latencies) == 0 {
		return 0
	}
	return s.latencies[int(p*float64(len(s.latencies)-1)+0.5)]
}

// loadDuration reads RAGQ_LOAD_SECONDS.
func loadDuration(tb testing.TB) time.Duration {
	tb.Helper()
	v := os.Getenv("RAGQ_LOAD_SECONDS")
	if v == "" {
		return loadDefaultSeconds * time.Second
	}
	n, err := strconv.Atoi(v)
	require.NoError(tb, err, "RAGQ_LOAD_SECONDS")
	require.True(tb, n > 0 && n <= 600, "RAGQ_LOAD_SECONDS must be 1..600")
	return time.Duration(n) * time.Second
}

// setupLoad starts the api under load and ingests its corpus; it returns
// the bundle and a reader key.
func setupLoad(tb testing.TB) (*testBundle, string) {
	tb.Helper()
	needServers(tb)
	r := testRedis.NewDB(tb)
	b := setup(tb, map[string]string{
		"RAGQ_REDIS_URL":          fmt.Sprintf("redis://%s/%d", r.Addr, r.DB),
		"RAGQ_DATABASE_URL":       testPG.NewDatabase(tb),
		"RAGQ_RUN_WORKERS":        "true",
		"RAGQ_WORKER_CONCURRENCY": "16",
		"RAGQ_CHUNK_SIZE":         "200",
		// Rate limits off: this measures the server, not the limiter.
		"RAGQ_RATE_LIMIT_RPS":           "0",
		"RAGQ_RATE_LIMIT_EXPENSIVE_RPM": "0",
	})
	writer := b.newKey(tb, "load", "writer")
	var ids []string
	for i := range loadDocuments {
		id, _ := b.postText(tb, writer, fmt.Sprintf("Ledger %d", i), ledgerText(i))
		ids = append(ids, id)
	}
	for _, id := range ids {
		require.Equal(tb, "ready", b.waitStatus(tb, writer, id).Status)
	}
	return b, b.newKey(tb, "load", "reader")
}

// runLoad runs the clients for d and returns the outcomes by kind
// ("search", "query"), latencies sorted, and the time it really took.
func runLoad(tb testing.TB, b *testBundle, key string, d time.Duration) (map[string]*loadStats, time.Duration) {
	tb.Helper()
	client := &http.Client{
		Timeout: loadRequestTimeout,
		Transport: &http.Transport{
			MaxIdleConns: loadClients, MaxIdleConnsPerHost: loadClients,
			IdleConnTimeout: 30 * time.Second,
		},
	}
	defer client.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	kinds := []string{"search", "query"}
	var (
		mu    sync.Mutex
		stats = map[string]*loadStats{"search": {}, "query": {}}
		wg    sync.WaitGroup
	)
	start := time.Now()
	for c := range loadClients {
		kind := kinds[c%2]
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				req := loadRequest(tb, b.base, key, kind, c*1000+i)
				t0 := time.Now()
				code, msg := doLoadRequest(client, req)
				took := time.Since(t0)
				mu.Lock()
				s := stats[kind]
				switch {
				case code == http.StatusOK:
					s.ok++
					s.latencies = append(s.latencies, took)
				case code == http.StatusTooManyRequests:
					s.throttled++
				case code == 0 && ctx.Err() != nil:
					// Cut off by the end of the run: neither a success nor a failure.
				default:
					s.failed++
					if len(s.samples) < 5 {
						s.samples = append(s.samples, fmt.Sprintf("%d %s", code, msg))
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	for _, s := range stats {
		slices.Sort(s.latencies)
	}
	return stats, elapsed
}

// loadRequest builds request n of a kind; questions and queries vary so
// that no answer is simply repeated.
func loadRequest(tb testing.TB, base, key, kind string, n int) *http.Request {
	var req *http.Request
	var err error
	district := n % (loadDocuments * 7)
	if kind == "search" {
		q := url.QueryEscape(fmt.Sprintf("copper wire crates district %d", district))
		req, err = http.NewRequest(http.MethodGet, base+"/v1/search?q="+q, nil)
	} else {
		// Past the answer cache: this measures questions answered by the
		// workers (cache hits are BenchmarkCacheHit's).
		body, _ := json.Marshal(map[string]any{"question": fmt.Sprintf("How many crates of copper wire did district %d count?", district), "cache": false})
		req, err = http.NewRequest(http.MethodPost, base+"/v1/queries", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	}
	if err != nil {
		tb.Errorf("load request: %v", err)
		return nil
	}
	req.Header.Set("Authorization", "Bearer "+key)
	return req
}

// doLoadRequest sends req and returns the status (0 when no answer came)
// and, for a failure, what went wrong.
func doLoadRequest(client *http.Client, req *http.Request) (int, string) {
	if req == nil {
		return -1, "no request"
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return 0, err.Error()
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, string(raw)
	}
	return resp.StatusCode, ""
}

// TestLoadSearchAndQueries: under loadClients concurrent clients, search
// and sync queries answer with nothing but 200 or 429 (the rate limits are
// off, so in fact 200); throughput and p50/p95/p99 are logged, never
// asserted.
func TestLoadSearchAndQueries(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a load test")
	}
	b, key := setupLoad(t)
	d := loadDuration(t)
	stats, elapsed := runLoad(t, b, key, d)
	for _, kind := range []string{"search", "query"} {
		s := stats[kind]
		t.Logf("load %s: %d clients/2 for %s: %d ok (%.0f req/s), %d throttled, %d failed; p50 %s p95 %s p99 %s",
			kind, loadClients, elapsed.Round(time.Millisecond), s.ok, float64(s.ok)/elapsed.Seconds(), s.throttled, s.failed,
			s.percentile(0.50).Round(time.Microsecond*10), s.percentile(0.95).Round(time.Microsecond*10), s.percentile(0.99).Round(time.Microsecond*10))
		require.Zero(t, s.failed, "%s: failures beyond 429: %v", kind, s.samples)
		require.Positive(t, s.ok, "%s: nothing answered", kind)
	}
}

// BenchmarkLoadSearchAndQueries reports the load test's figures as metrics
// (one run of RAGQ_LOAD_SECONDS whatever b.N is).
func BenchmarkLoadSearchAndQueries(b *testing.B) {
	bundle, key := setupLoad(b)
	d := loadDuration(b)
	b.ResetTimer()
	stats, elapsed := runLoad(b, bundle, key, d)
	b.StopTimer()
	for _, kind := range []string{"search", "query"} {
		s := stats[kind]
		if s.failed > 0 {
			b.Errorf("%s: %d failures beyond 429: %v", kind, s.failed, s.samples)
		}
		b.ReportMetric(float64(s.ok)/elapsed.Seconds(), kind+"-req/s")
		b.ReportMetric(float64(s.percentile(0.50).Microseconds())/1000, kind+"-p50-ms")
		b.ReportMetric(float64(s.percentile(0.95).Microseconds())/1000, kind+"-p95-ms")
		b.ReportMetric(float64(s.percentile(0.99).Microseconds())/1000, kind+"-p99-ms")
	}
}
