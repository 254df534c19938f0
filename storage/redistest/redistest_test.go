package redistest_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/storage/redistest"
)

var server *redistest.Server

func TestMain(m *testing.M) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	srv, err := redistest.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server = srv
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

func client(t *testing.T, opt asynq.RedisClientOpt) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestNewDBIsolatesTests(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	seen := map[int]bool{}
	for i := range 8 {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			t.Parallel()
			opt := server.NewDB(t)
			require.Equal(t, server.Addr(), opt.Addr)
			mu.Lock()
			require.False(t, seen[opt.DB], "database %d handed out twice at once", opt.DB)
			seen[opt.DB] = true
			mu.Unlock()
			t.Cleanup(func() { mu.Lock(); delete(seen, opt.DB); mu.Unlock() })

			c := client(t, opt)
			n, err := c.DBSize(t.Context()).Result()
			require.NoError(t, err)
			require.Zero(t, n, "a new database must be empty")
			require.NoError(t, c.Set(t.Context(), "mine", i, 0).Err())
			time.Sleep(10 * time.Millisecond)
			v, err := c.Get(t.Context(), "mine").Int()
			require.NoError(t, err)
			require.Equal(t, i, v)
		})
	}
}

func TestNewDBBlocksWhenAllTaken(t *testing.T) {
	// Not parallel: it takes every database.
	held := make(chan struct{})
	release := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t.Run("holder", func(t *testing.T) {
			for range 64 {
				server.NewDB(t)
			}
			close(held)
			<-release
		})
	}()
	<-held
	got := make(chan int, 1)
	waited := make(chan struct{})
	go func() {
		defer close(waited)
		t.Run("waiter", func(t *testing.T) {
			got <- server.NewDB(t).DB
		})
	}()
	defer func() { <-waited }()
	select {
	case <-got:
		t.Fatal("NewDB returned while every database was taken")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	<-finished
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("NewDB did not get a released database")
	}
}

func TestFlush(t *testing.T) {
	t.Parallel()
	opt := server.NewDB(t)
	c := client(t, opt)
	require.NoError(t, c.Set(t.Context(), "k", "v", 0).Err())
	require.NoError(t, redistest.Flush(t.Context(), opt))
	require.Zero(t, c.DBSize(t.Context()).Val())
}

func TestMiniredis(t *testing.T) {
	t.Parallel()
	opt := redistest.Miniredis(t)
	c := client(t, opt)
	require.NoError(t, c.Set(t.Context(), "k", "v", 30*time.Millisecond).Err())
	require.Eventually(t, func() bool { return c.Exists(t.Context(), "k").Val() == 0 }, 5*time.Second, 5*time.Millisecond,
		"miniredis TTLs must follow the clock")
}

// TestPersistentSurvivesKill: what a client wrote before kill -9 is there
// after a restart on the same port, thanks to the append-only file.
func TestPersistentSurvivesKill(t *testing.T) {
	t.Parallel()
	p := redistest.StartPersistent(t)
	c := client(t, p.Opt(3))
	ctx := t.Context()
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	p.Kill()
	require.Error(t, c.Ping(ctx).Err(), "the server is down")
	require.NoError(t, p.Start(ctx))
	got, err := c.Get(ctx, "k").Result()
	require.NoError(t, err)
	require.Equal(t, "v", got)
	require.Error(t, p.Start(ctx), "it already runs")
}
