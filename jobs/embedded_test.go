package jobs_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/alicebob/miniredis/v2"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/storage/redis"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// TestEmbeddedMode runs ingestion and a query on miniredis, as embedded mode
// does: the same handlers, server and client as with a real Redis.
func TestEmbeddedMode(t *testing.T) {
	t.Parallel()
	b := &pipelineBundle{env: newEnv(t, redistest.Miniredis(t)), tenant: "acme"}
	b.startServer(t, b.deps(b.Asynq))
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	require.NoError(t, b.Client.EnqueueIngest(t.Context(), doc))
	require.NoError(t, b.Client.EnqueueIngest(t.Context(), doc), "a duplicate enqueue is a no-op on miniredis too")
	job := b.WaitJob(t, b.tenant, doc.JobID)
	require.Equal(t, ragqueue.StateSucceeded, job.State, "error: %s", job.Error)
	got := b.GetDocument(t, b.tenant, doc.ID)
	require.Equal(t, ragqueue.StatusReady, got.Status)

	q, err := b.Client.EnqueueQuery(t.Context(), b.tenant, "How often is the pressure valve calibrated?", 3)
	require.NoError(t, err)
	job = b.WaitJob(t, b.tenant, q.ID)
	require.Equal(t, ragqueue.StateSucceeded, job.State, "error: %s", job.Error)
	var res queryResult
	require.NoError(t, json.Unmarshal(job.Result, &res))
	require.Contains(t, res.Answer, "month")
	require.NotEmpty(t, res.Citations)
}

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
