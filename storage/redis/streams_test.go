package redis_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/storage/redis"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

var testRedis *redistest.Server

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	var err error
	testRedis, err = redistest.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisstream tests:", err)
		os.Exit(1)
	}
	code := m.Run()
	testRedis.Stop()
	os.Exit(code)
}

// backends runs fn against miniredis (embedded mode) and a real Redis.
func backends(t *testing.T, fn func(t *testing.T, rdb goredis.UniversalClient)) {
	t.Helper()
	for _, b := range []struct {
		name string
		opt  func(t testing.TB) goredis.UniversalClient
	}{
		{"miniredis", func(t testing.TB) goredis.UniversalClient { return client(t, redistest.Miniredis(t).Addr, 0) }},
		{"redis", func(t testing.TB) goredis.UniversalClient { o := testRedis.NewDB(t); return client(t, o.Addr, o.DB) }},
	} {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, b.opt(t))
		})
	}
}

func client(t testing.TB, addr string, db int) goredis.UniversalClient {
	c := goredis.NewClient(&goredis.Options{Addr: addr, DB: db})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newStreams(t testing.TB, rdb goredis.UniversalClient, opts redis.StreamOptions) *redis.Streams {
	s := redis.NewStreams(rdb, opts)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func token(i int) ragqueue.Event {
	return jobs.NewEvent(ragqueue.EventToken, ragqueue.TokenEvent{Text: strconv.Itoa(i)})
}

func done() ragqueue.Event {
	return jobs.NewEvent(ragqueue.EventDone, ragqueue.DoneEvent{State: ragqueue.StateSucceeded})
}

// readAll reads sub until done, failing after a generous bound.
func readAll(t testing.TB, sub *redis.Subscription) []ragqueue.EventEntry {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []ragqueue.EventEntry
	for {
		es, err := sub.Next(ctx, 0)
		if err == io.EOF {
			return out
		}
		require.NoError(t, err, "after %d entries", len(out))
		out = append(out, es...)
	}
}

// tokens returns the token texts of es (other events as their type).
func tokens(es []ragqueue.EventEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Event.Type
		if e.Event.Type == ragqueue.EventToken {
			out[i] = string(e.Event.Data)
		}
	}
	return out
}

func want(n int) []string {
	out := make([]string, 0, n+1)
	for i := range n {
		out = append(out, `{"text":"`+strconv.Itoa(i)+`"}`)
	}
	return append(out, ragqueue.EventDone)
}

func TestBacklogThenLive(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, rdb goredis.UniversalClient) {
		ctx := t.Context()
		s := newStreams(t, rdb, redis.StreamOptions{})
		for i := range 3 {
			require.NoError(t, s.PublishEvent(ctx, "t1", "job", token(i)))
		}
		sub, err := s.Subscribe(ctx, "t1", "job", "")
		require.NoError(t, err)
		defer sub.Close()
		got, err := sub.Next(ctx, 0)
		require.NoError(t, err)
		require.Equal(t, want(3)[:3], tokens(got), "the backlog comes first")

		// Live entries arrive through the fan-out loop.
		go func() {
			for i := 3; i < 6; i++ {
				_ = s.PublishEvent(context.Background(), "t1", "job", token(i))
			}
			_ = s.PublishEvent(context.Background(), "t1", "job", done())
			_ = s.PublishEvent(context.Background(), "t1", "job", token(99)) // after done: never read
		}()
		rest := readAll(t, sub)
		require.Equal(t, want(6)[3:], tokens(rest))
		for _, e := range append(got, rest...) {
			require.True(t, ragqueue.ValidEventID(e.ID), "entry ID %q", e.ID)
		}
		_, err = sub.Next(ctx, 0)
		require.ErrorIs(t, err, io.EOF)
	})
}

func TestResumeAfterID(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, rdb goredis.UniversalClient) {
		ctx := t.Context()
		s := newStreams(t, rdb, redis.StreamOptions{})
		for i := range 10 {
			require.NoError(t, s.PublishEvent(ctx, "t1", "job", token(i)))
		}
		require.NoError(t, s.PublishEvent(ctx, "t1", "job", done()))
		sub, err := s.Subscribe(ctx, "t1", "job", "0")
		require.NoError(t, err)
		all := readAll(t, sub)
		sub.Close()
		require.Equal(t, want(10), tokens(all))

		// Resuming after the 4th entry gives exactly the ones after it.
		sub, err = s.Subscribe(ctx, "t1", "job", all[3].ID)
		require.NoError(t, err)
		defer sub.Close()
		rest := readAll(t, sub)
		require.Equal(t, all[4:], rest)

		_, err = s.Subscribe(ctx, "t1", "job", "not-an-id")
		require.Error(t, err)
	})
}

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, rdb goredis.UniversalClient) {
		ctx := t.Context()
		s := newStreams(t, rdb, redis.StreamOptions{})
		require.NoError(t, s.PublishEvent(ctx, "t1", "job", token(1)))
		require.NoError(t, s.PublishEvent(ctx, "t1", "job", done()))
		ok, err := s.Exists(ctx, "t2", "job")
		require.NoError(t, err)
		require.False(t, ok)
		sub, err := s.Subscribe(ctx, "t2", "job", "")
		require.NoError(t, err)
		defer sub.Close()
		got, err := sub.Next(ctx, 100*time.Millisecond)
		require.NoError(t, err)
		require.Empty(t, got, "another tenant's stream of the same job ID is not readable")
	})
}

func TestTrimAndTTL(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, rdb goredis.UniversalClient) {
		ctx := t.Context()
		s := newStreams(t, rdb, redis.StreamOptions{MaxLen: 10, TTL: time.Hour})
		for i := range 1000 {
			require.NoError(t, s.PublishEvent(ctx, "t1", "job", token(i)))
		}
		n, err := rdb.XLen(ctx, s.Key("t1", "job")).Result()
		require.NoError(t, err)
		require.Less(t, n, int64(500), "MAXLEN ~ trims the stream")
		ttl, err := rdb.TTL(ctx, s.Key("t1", "job")).Result()
		require.NoError(t, err)
		require.Greater(t, ttl, time.Duration(0))
		require.LessOrEqual(t, ttl, time.Hour)
	})
}

// A subscriber that falls far behind the fan-out loop reads the rest from
// Redis: no entry lost or repeated.
func TestSlowSubscriberCatchesUp(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, rdb goredis.UniversalClient) {
		ctx := t.Context()
		s := newStreams(t, rdb, redis.StreamOptions{})
		sub, err := s.Subscribe(ctx, "t1", "job", "")
		require.NoError(t, err)
		defer sub.Close()
		got, err := sub.Next(ctx, 10*time.Millisecond)
		require.NoError(t, err)
		require.Empty(t, got)
		const n = 2500
		for i := range n {
			require.NoError(t, s.PublishEvent(ctx, "t1", "job", token(i)))
		}
		require.NoError(t, s.PublishEvent(ctx, "t1", "job", done()))
		require.Equal(t, want(n), tokens(readAll(t, sub)))
	})
}

// Many subscribers on many streams share the loop; each gets its own.
func TestManySubscribers(t *testing.T) {
	t.Parallel()
	backends(t, func(t *testing.T, rdb goredis.UniversalClient) {
		ctx := t.Context()
		s := newStreams(t, rdb, redis.StreamOptions{Block: 200 * time.Millisecond})
		const jobsN, subsPer, n = 20, 3, 5
		var wg sync.WaitGroup
		results := make(chan []string, jobsN*subsPer)
		for j := range jobsN {
			for range subsPer {
				sub, err := s.Subscribe(ctx, "t1", strconv.Itoa(j), "")
				require.NoError(t, err)
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer sub.Close()
					results <- tokens(readAll(t, sub))
				}()
			}
		}
		for j := range jobsN {
			go func() {
				for i := range n {
					_ = s.PublishEvent(context.Background(), "t1", strconv.Itoa(j), token(i))
				}
				_ = s.PublishEvent(context.Background(), "t1", strconv.Itoa(j), done())
			}()
		}
		wg.Wait()
		close(results)
		count := 0
		for r := range results {
			require.Equal(t, want(n), r)
			count++
		}
		require.Equal(t, jobsN*subsPer, count)
	})
}
