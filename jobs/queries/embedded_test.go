package queries_test

import (
	"encoding/json"
	"testing"

	"github.com/ragqueue/ragqueue"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// TestEmbeddedMode runs ingestion and a query on miniredis, as embedded mode
// does: the same handlers, server and client as with a real Redis.
func TestEmbeddedMode(t *testing.T) {
	t.Parallel()
	b := &pipelineBundle{env: newEnv(t, redistest.Miniredis(t)), tenant: "acme"}
	b.StartWorker(t, b.Deps(b.Asynq))
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	require.NoError(t, b.EnqueueIngest(t.Context(), doc))
	require.NoError(t, b.EnqueueIngest(t.Context(), doc), "a duplicate enqueue is a no-op on miniredis too")
	job := b.WaitJob(t, b.tenant, doc.JobID)
	require.Equal(t, ragqueue.StateSucceeded, job.State, "error: %s", job.Error)
	got := b.GetDocument(t, b.tenant, doc.ID)
	require.Equal(t, ragqueue.StatusReady, got.Status)

	q, err := b.EnqueueQuery(t.Context(), b.tenant, "How often is the pressure valve calibrated?", 3)
	require.NoError(t, err)
	job = b.WaitJob(t, b.tenant, q.ID)
	require.Equal(t, ragqueue.StateSucceeded, job.State, "error: %s", job.Error)
	var res queryResult
	require.NoError(t, json.Unmarshal(job.Result, &res))
	require.Contains(t, res.Answer, "month")
	require.NotEmpty(t, res.Citations)
}
