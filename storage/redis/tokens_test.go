package redis

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func TestTokenBudget(t *testing.T) {
	t.Parallel()
	m := miniredis.RunT(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	day := time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC)
	b := NewTokenBudget(rdb, 1000)
	b.now = func() time.Time { return day }

	require.NoError(t, b.Allow(ctx, "acme"))
	used, err := b.Add(ctx, "acme", 600)
	require.NoError(t, err)
	require.EqualValues(t, 600, used)
	require.NoError(t, b.Allow(ctx, "acme"), "under budget")
	used, err = b.Add(ctx, "acme", 400)
	require.NoError(t, err)
	require.EqualValues(t, 1000, used)
	err = b.Allow(ctx, "acme")
	require.Equal(t, ragqueue.ERATELIMIT, ragqueue.ErrorCode(err), "%v", err)

	// Other tenants are unaffected; the counter expires by itself.
	require.NoError(t, b.Allow(ctx, "globex"))
	require.Positive(t, m.TTL("ragqueue:tokens:acme:2026-11-27"))
	_, err = b.Add(ctx, "acme", -1)
	require.Error(t, err)

	// A new UTC day starts from zero.
	day = day.Add(2 * time.Hour)
	require.NoError(t, b.Allow(ctx, "acme"))
	n, err := b.Used(ctx, "acme")
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestTokenBudgetUnlimited(t *testing.T) {
	t.Parallel()
	m := miniredis.RunT(t)
	rdb := goredis.NewClient(&goredis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	b := NewTokenBudget(rdb, 0)
	_, err := b.Add(ctx, "acme", 1<<40)
	require.NoError(t, err)
	require.NoError(t, b.Allow(ctx, "acme"))
}
