package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkCacheHit measures the answer latency of POST /v1/queries over
// HTTP for a cached question (the API's fast path: lookup, job record,
// answer), exact and semantic (the question embedded and compared with
// the tenant's 200 other cached questions), against a same-run baseline of the same question with
// "cache": false (enqueue, worker, retrieval, generation, wait), in
// embedded mode and on Redis+PostgreSQL. It reports p50/p95 of each in ms;
// the goal is a cache-hit p95 of at most 5 ms. Run with -benchtime=1x:
// each iteration is the whole series.
func BenchmarkCacheHit(b *testing.B) {
	modes := []struct {
		name string
		env  func(b *testing.B) map[string]string
	}{
		{"embedded", func(*testing.B) map[string]string { return map[string]string{} }},
		{"redis+postgres", func(b *testing.B) map[string]string {
			needServers(b)
			opt := testRedis.NewDB(b)
			return map[string]string{
				"RAGQ_REDIS_URL":    fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB),
				"RAGQ_DATABASE_URL": testPG.NewDatabase(b),
				"RAGQ_RUN_WORKERS":  "true",
			}
		}},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			env := m.env(b)
			env["RAGQ_LOG_LEVEL"] = "error"
			env["RAGQ_CACHE_SIMILARITY"] = "0.9" // the hash embedder's paraphrase similarity
			tb := setup(b, env)
			key := tb.newKey(b, "bench-cache", "writer")
			ids := []string{}
			for i := range 100 {
				id, _ := tb.postText(b, key, fmt.Sprintf("part %d", i), fmt.Sprintf("Spare part P%d weighs %d grams and fits model M%d.", i, 10+i, i%7))
				ids = append(ids, id)
			}
			x100, _ := tb.postText(b, key, "X100", x100Text)
			for _, id := range append(ids, x100) {
				require.Equal(b, "ready", tb.waitStatus(b, key, id).Status)
			}
			// Fill the tenant's cache with 200 other answered questions, so
			// that a semantic lookup compares 200 vectors.
			for i := range 200 {
				tb.ask(b, key, map[string]any{"question": fmt.Sprintf([]string{"How much does spare part P%d weigh?", "Which model does spare part P%d fit?"}[i%2], i/2)})
			}
			const question = "How fast does the X100 printer print?"
			require.Equal(b, "miss", tb.ask(b, key, map[string]any{"question": question}).cache())
			const hits, uncached = 500, 100
			for b.Loop() {
				hit := timeQueries(b, tb, key, map[string]any{"question": question}, hits, "exact")
				sem := timeQueries(b, tb, key, map[string]any{"question": "The X100 printer: how fast does it print?"}, hits, "semantic")
				base := timeQueries(b, tb, key, map[string]any{"question": question, "cache": false}, uncached, "")
				b.ReportMetric(ms(pct(hit, 50)), "hit-p50-ms")
				b.ReportMetric(ms(pct(hit, 95)), "hit-p95-ms")
				b.ReportMetric(ms(pct(sem, 50)), "semantic-p50-ms")
				b.ReportMetric(ms(pct(sem, 95)), "semantic-p95-ms")
				b.ReportMetric(ms(pct(base, 50)), "uncached-p50-ms")
				b.ReportMetric(ms(pct(base, 95)), "uncached-p95-ms")
			}
		})
	}
}

// timeQueries sends body n times, one after another, checking that each
// answer's cache field is want, and returns the latencies, sorted.
func timeQueries(b *testing.B, tb *testBundle, key string, body map[string]any, n int, want string) []time.Duration {
	raw, err := json.Marshal(body)
	require.NoError(b, err)
	out := make([]time.Duration, 0, n)
	for range n {
		req, err := http.NewRequest(http.MethodPost, tb.base+"/v1/queries", bytes.NewReader(raw))
		require.NoError(b, err)
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		resp, err := tb.http.Do(req)
		require.NoError(b, err)
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		out = append(out, time.Since(start))
		require.NoError(b, err)
		require.Equal(b, http.StatusOK, resp.StatusCode, "%s", got)
		var ans convoAnswer
		require.NoError(b, json.Unmarshal(got, &ans))
		require.Equal(b, want, ans.cache(), "%s", got)
	}
	slices.Sort(out)
	return out
}

// pct returns the p-th percentile of sorted durations (nearest rank).
func pct(sorted []time.Duration, p int) time.Duration {
	i := (len(sorted)*p + 99) / 100
	return sorted[max(0, min(len(sorted)-1, i-1))]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
