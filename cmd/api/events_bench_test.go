package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/keys"
)

// timedModel is an OpenAI-compatible streaming chat endpoint that waits
// firstToken before its first token and reports, per request, how long it
// itself took from the request's arrival to flushing that token.
type timedModel struct {
	URL  string
	took chan time.Duration
}

func newTimedModel(tb testing.TB, firstToken time.Duration) *timedModel {
	m := &timedModel{took: make(chan time.Duration, 1024)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived := time.Now()
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/event-stream")
		time.Sleep(firstToken)
		fmt.Fprint(w, `data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":"Air"}}]}`+"\n\n")
		w.(http.Flusher).Flush()
		m.took <- time.Since(arrived)
		fmt.Fprint(w, `data: {"id":"x","object":"chat.completion.chunk","model":"m","choices":[{"index":0,"delta":{"content":" [1]."},"finish_reason":"stop"}]}`+"\n\n")
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	tb.Cleanup(srv.Close)
	m.URL = srv.URL + "/v1"
	return m
}

// BenchmarkTimeToFirstToken measures what ragqueue adds to a model's time
// to first token: from sending POST /v1/queries (Accept: text/event-stream)
// to reading the first token event, minus the model's own time from the
// request's arrival to its first token. Sequential queries, so the worker is
// idle when each arrives: the pickup delay is the worker poll interval's
// share. Run with -benchtime=200x.
func BenchmarkTimeToFirstToken(b *testing.B) {
	for _, m := range []struct {
		name string
		env  func(b *testing.B) map[string]string
	}{
		{"embedded/default-poll(50ms)", func(*testing.B) map[string]string { return map[string]string{} }},
		{"embedded/poll=2ms", func(*testing.B) map[string]string {
			return map[string]string{"RAGQ_WORKER_POLL_INTERVAL": "2ms"}
		}},
		{"redis/default-poll(5ms)", func(b *testing.B) map[string]string {
			needServers(b)
			opt := testRedis.NewDB(b)
			return map[string]string{"RAGQ_REDIS_URL": fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB), "RAGQ_RUN_WORKERS": "true"}
		}},
	} {
		b.Run(m.name, func(b *testing.B) {
			model := newTimedModel(b, 20*time.Millisecond)
			env := m.env(b)
			env["RAGQ_LOG_LEVEL"] = "error"
			eb := setupEvents(b, model.URL, env)
			client := &http.Client{}
			added := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest(http.MethodPost, eb.base+"/v1/queries", strings.NewReader(`{"question":"why is the sky blue?","cache":false}`))
				req.Header.Set("Authorization", "Bearer "+eb.key)
				req.Header.Set("Accept", "text/event-stream")
				req.Header.Set("Content-Type", "application/json")
				start := time.Now()
				resp, err := client.Do(req)
				require.NoError(b, err)
				s := &sseStream{resp: resp, r: bufio.NewReader(resp.Body)}
				ev := s.nextEvent(b)
				total := time.Since(start)
				require.Equal(b, ragqueue.EventToken, ev.Event)
				added = append(added, total-<-model.took)
				s.untilDone(b)
				_ = resp.Body.Close()
			}
			b.StopTimer()
			slices.Sort(added)
			p := func(q float64) float64 {
				return float64(added[min(len(added)-1, int(q*float64(len(added))))].Microseconds()) / 1000
			}
			b.ReportMetric(p(0.50), "added-p50-ms")
			b.ReportMetric(p(0.95), "added-p95-ms")
		})
	}
}

// BenchmarkSSESubscribers holds 1,000 SSE subscribers of one running job
// and reports what each costs the server: heap and goroutine stacks (the
// clients are bare TCP connections with no goroutine or buffer of their
// own, so nearly all of it is the server's), goroutines, and the Redis
// connections busy for all of them. Run with -benchtime=1x.
func BenchmarkSSESubscribers(b *testing.B) {
	const n = 1000
	tb := setup(b, map[string]string{"RAGQ_LOG_LEVEL": "error"})
	a := tb.inst.app
	ctx := context.Background()
	now := time.Now().UTC()
	require.NoError(b, a.Store().CreateJob(ctx, ragqueue.Job{ID: "held", Tenant: keys.DefaultTenant, Type: ragqueue.KindQuery,
		State: ragqueue.StateActive, CreatedAt: now, UpdatedAt: now}))
	request := "GET /v1/jobs/held/events HTTP/1.1\r\nHost: " + tb.inst.Addr() +
		"\r\nAuthorization: Bearer " + testAdminKey + "\r\nAccept: text/event-stream\r\n\r\n"
	// expect reads from conn until it has seen want, with a small buffer.
	expect := func(conn net.Conn, want string) {
		var seen []byte
		buf := make([]byte, 512)
		_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
		for !strings.Contains(string(seen), want) {
			k, err := conn.Read(buf)
			require.NoError(b, err, "read so far: %q", seen)
			seen = append(seen, buf[:k]...)
		}
	}
	for i := 0; i < b.N; i++ {
		memBefore := heapAndStacks()
		goBefore := runtime.NumGoroutine()
		conns := make([]net.Conn, n)
		for j := range conns {
			conn, err := net.Dial("tcp", tb.inst.Addr())
			require.NoError(b, err)
			_, err = io.WriteString(conn, request)
			require.NoError(b, err)
			conns[j] = conn
		}
		// Every subscriber relays an event: all are subscribed.
		_, err := a.Streams().Publish(ctx, keys.DefaultTenant, "held", jobs.NewEvent(ragqueue.EventProgress, map[string]int{"step": 1}))
		require.NoError(b, err)
		for _, conn := range conns {
			expect(conn, "event: progress")
		}
		memAfter := heapAndStacks()
		goAfter := runtime.NumGoroutine()
		pool := a.RedisPoolStats()
		b.ReportMetric(float64(memAfter-memBefore)/n/1024, "KiB/subscriber")
		b.ReportMetric(float64(goAfter-goBefore)/n, "goroutines/subscriber")
		b.ReportMetric(float64(pool.TotalConns-pool.IdleConns), "redis-conns-busy")

		_, err = a.Streams().Publish(ctx, keys.DefaultTenant, "held", jobs.NewEvent(ragqueue.EventDone, ragqueue.DoneEvent{State: ragqueue.StateSucceeded}))
		require.NoError(b, err)
		for _, conn := range conns {
			expect(conn, "event: done")
			_ = conn.Close()
		}
	}
}

// heapAndStacks is the memory in use by heap objects and goroutine stacks
// after a collection.
func heapAndStacks() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc + ms.StackInuse
}
