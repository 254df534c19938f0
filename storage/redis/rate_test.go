package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage/redis"
)

func newRedis(t *testing.T) goredis.UniversalClient {
	t.Helper()
	m := miniredis.RunT(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestLimiterBurstThenRefuses(t *testing.T) {
	t.Parallel()
	l := redis.NewLimiter(newRedis(t))
	ctx := context.Background()
	// One request per hour refills far slower than the test runs, so the
	// outcome does not depend on timing.
	r := ragqueue.Rate{Events: 1, Per: time.Hour, Burst: 3}
	for i := range 3 {
		d, err := l.Allow(ctx, "key:a", r)
		require.NoError(t, err)
		require.True(t, d.Allowed, "request %d", i)
		require.Equal(t, 3, d.Limit)
		require.Equal(t, 2-i, d.Remaining)
		require.Zero(t, d.RetryAfter)
		require.Positive(t, d.ResetAfter)
	}
	d, err := l.Allow(ctx, "key:a", r)
	require.NoError(t, err)
	require.False(t, d.Allowed)
	require.Zero(t, d.Remaining)
	require.Positive(t, d.RetryAfter)
	require.LessOrEqual(t, d.RetryAfter, time.Hour)

	// Another key has its own budget.
	d, err = l.Allow(ctx, "key:b", r)
	require.NoError(t, err)
	require.True(t, d.Allowed)
}

func TestLimiterUnlimitedSkipsRedis(t *testing.T) {
	t.Parallel()
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	l := redis.NewLimiter(rdb)
	d, err := l.Allow(context.Background(), "k", ragqueue.Rate{})
	require.NoError(t, err)
	require.True(t, d.Allowed)

	// With a limit, an unreachable Redis is an error for the caller to handle.
	_, err = l.Allow(context.Background(), "k", ragqueue.Rate{Events: 1, Per: time.Second, Burst: 1})
	require.Error(t, err)
}
