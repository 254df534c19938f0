package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/storage/redis"
)

func TestRunMiniredisClock(t *testing.T) {
	t.Parallel()
	m := miniredis.RunT(t)
	c := goredis.NewClient(&goredis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = c.Close() })
	require.NoError(t, c.Set(t.Context(), "asynq:unique:lock", "1", 50*time.Millisecond).Err())

	// Without the clock, miniredis never expires it.
	time.Sleep(80 * time.Millisecond)
	require.EqualValues(t, 1, c.Exists(t.Context(), "asynq:unique:lock").Val())

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		redis.RunMiniredisClock(ctx, m, 10*time.Millisecond)
	}()
	t.Cleanup(func() { cancel(); <-done })
	require.NoError(t, c.Set(t.Context(), "asynq:servers:x", "1", 50*time.Millisecond).Err())
	require.Eventually(t, func() bool {
		return c.Exists(t.Context(), "asynq:servers:x").Val() == 0
	}, 5*time.Second, 5*time.Millisecond, "a TTL key never expired")
	ttl := c.PTTL(t.Context(), "asynq:unique:lock").Val()
	require.Less(t, ttl, 50*time.Millisecond, "the clock must age keys set before it started")
}
