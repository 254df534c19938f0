package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// TestRedisRestartKeepsQueuedJobs kills a dedicated redis-server (AOF on,
// appendfsync everysec, as deployed) with ingestion jobs queued and no
// worker running, and starts it again on the same port and directory: the
// queued tasks are all still in Redis (the AOF kept them; this is checked
// before any worker could re-enqueue them from the database), the api
// answers 503 on /readyz while Redis is away and 200 again afterwards by
// itself, and every document, one uploaded while Redis was away included,
// becomes ready once a worker runs.
func TestRedisRestartKeepsQueuedJobs(t *testing.T) {
	t.Parallel()
	needServers(t)
	const docs = 20
	rs := redistest.StartPersistent(t)
	opt := rs.Opt(0)
	b := setup(t, map[string]string{
		"RAGQ_REDIS_URL":    fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB),
		"RAGQ_DATABASE_URL": testPG.NewDatabase(t),
	})
	code, _ := b.readyz(t)
	require.Equal(t, http.StatusOK, code)
	key := b.newKey(t, "ledgers", "writer")
	var ids []string
	for i := range docs {
		id, _ := b.postText(t, key, fmt.Sprintf("Ledger %d", i), ledgerText(i))
		ids = append(ids, id)
	}
	pendingIngest := func() int {
		insp := asynq.NewInspector(opt)
		defer insp.Close()
		q, err := insp.GetQueueInfo(jobs.QueueIngest)
		require.NoError(t, err)
		return q.Pending
	}
	require.Equal(t, docs, pendingIngest())

	rs.Kill()
	require.Eventually(t, func() bool {
		code, checks := b.readyz(t)
		return code == http.StatusServiceUnavailable && checks["redis"] == "unavailable" && checks["database"] == "ok"
	}, 30*time.Second, 50*time.Millisecond, "/readyz reports Redis away")
	// What needs only the database still answers, and an upload is
	// recorded there for the reconciler to enqueue later.
	require.Len(t, b.listDocs(t, key), docs)
	id, _ := b.postText(t, key, "While Redis is away", ledgerText(docs))
	ids = append(ids, id)

	require.NoError(t, rs.Start(t.Context()))
	require.Equal(t, docs, pendingIngest(), "the AOF kept every queued task")
	require.Eventually(t, func() bool {
		code, _ := b.readyz(t)
		return code == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "/readyz recovers without restarting the api")

	// Uploads work again, and a worker finishes everything.
	id, _ = b.postText(t, key, "After the restart", ledgerText(docs+1))
	ids = append(ids, id)
	startWorker(t, buildWorker(t), b.env)
	require.Eventually(t, func() bool { return statusCounts(b.listDocs(t, key))["ready"] == len(ids) },
		2*time.Minute, 100*time.Millisecond, "every document ends ready")
	for _, id := range ids {
		var d docResp
		require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents/"+id, key, nil, "", &d))
		require.Equal(t, "ready", d.Status)
		require.Positive(t, d.Chunks)
	}
}
