package limit_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/limit"
)

func newRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

func TestLimiterBurstThenRefuses(t *testing.T) {
	t.Parallel()
	l := limit.NewLimiter(newRedis(t))
	ctx := context.Background()
	// One request per hour refills far slower than the test runs, so the
	// outcome does not depend on timing.
	r := limit.Rate{Events: 1, Per: time.Hour, Burst: 3}
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
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	l := limit.NewLimiter(rdb)
	d, err := l.Allow(context.Background(), "k", limit.Rate{})
	require.NoError(t, err)
	require.True(t, d.Allowed)

	// With a limit, an unreachable Redis is an error for the caller to handle.
	_, err = l.Allow(context.Background(), "k", limit.Rate{Events: 1, Per: time.Second, Burst: 1})
	require.Error(t, err)
}
