package main

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkIngest1000 measures documents/s from upload to ready for 1,000
// small text documents through the real HTTP server, in embedded mode and
// against a real redis-server. Run with -benchtime=1x: each iteration is the
// whole batch.
func BenchmarkIngest1000(b *testing.B) {
	modes := []struct {
		name string
		env  func(b *testing.B) map[string]string
	}{
		{"embedded", func(*testing.B) map[string]string { return nil }},
		{"redis", func(b *testing.B) map[string]string {
			needServers(b)
			opt := testRedis.NewDB(b)
			return map[string]string{"RAGQ_REDIS_URL": fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB), "RAGQ_RUN_WORKERS": "true"}
		}},
	}
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			env := m.env(b)
			if env == nil {
				env = map[string]string{}
			}
			env["RAGQ_LOG_LEVEL"] = "error"
			tb := setup(b, env)
			const docs = 1000
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				ids := uploadMany(b, tb, i, docs)
				waitAllReady(b, tb, ids)
				total += time.Since(start)
			}
			b.ReportMetric(float64(docs*b.N)/total.Seconds(), "docs/s")
		})
	}
}

// uploadMany uploads n distinct small documents with 8 concurrent clients.
func uploadMany(b *testing.B, tb *testBundle, round, n int) []string {
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				text := fmt.Sprintf("Document %d of round %d. The warehouse in district %d stores %d crates of item %d. "+
					"Deliveries arrive on weekday %d and leave by truck number %d.", i, round, i%37, i*7, i%101, i%5, i%13)
				var up uploadResp
				if code := tb.doJSON(b, http.MethodPost, "/v1/documents", testAdminKey, map[string]any{"text": text}, &up); code != http.StatusAccepted {
					b.Errorf("upload %d: status %d", i, code)
					return
				}
				ids[i] = up.Documents[0].ID
			}
		}()
	}
	wg.Wait()
	return ids
}

// waitAllReady polls until no document is queued or processing, then
// checks that every uploaded one is ready.
func waitAllReady(b *testing.B, tb *testBundle, ids []string) {
	type page struct {
		Documents []docResp `json:"documents"`
	}
	require.Eventually(b, func() bool {
		for _, st := range []string{"queued", "processing"} {
			var p page
			tb.do(b, http.MethodGet, "/v1/documents?limit=1&status="+st, testAdminKey, nil, "", &p)
			if len(p.Documents) > 0 {
				return false
			}
		}
		return true
	}, 10*time.Minute, 20*time.Millisecond)
	var d docResp
	for _, id := range []string{ids[0], ids[len(ids)/2], ids[len(ids)-1]} {
		require.Equal(b, http.StatusOK, tb.do(b, http.MethodGet, "/v1/documents/"+id, testAdminKey, nil, "", &d))
		require.Equal(b, "ready", d.Status, d.Error)
	}
}
