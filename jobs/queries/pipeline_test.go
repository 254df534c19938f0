package queries_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/queries"
	"github.com/ragqueue/ragqueue/retrieval"
)

// queryResult mirrors the query job's result JSON.
type queryResult struct {
	Answer    string              `json:"answer"`
	Citations []ragqueue.Citation `json:"citations"`
	Generator string              `json:"generator"`
	JobID     string              `json:"job_id"`
	Passages  []retrieval.Passage `json:"passages"`
}

func TestQueryEndToEnd(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	b.StartWorker(t, b.Deps(b.Asynq))
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	require.NoError(t, b.EnqueueIngest(t.Context(), doc))
	require.Equal(t, ragqueue.StateSucceeded, b.WaitJob(t, b.tenant, doc.JobID).State)

	queued, err := b.EnqueueQuery(t.Context(), b.tenant, "What does error code E42 mean?", 3)
	require.NoError(t, err)
	require.Equal(t, ragqueue.StateQueued, queued.State)
	require.Equal(t, ragqueue.KindQuery, queued.Type)
	job := b.WaitJob(t, b.tenant, queued.ID)
	require.Equal(t, ragqueue.StateSucceeded, job.State, "error: %s", job.Error)

	var res queryResult
	require.NoError(t, json.Unmarshal(job.Result, &res))
	require.Equal(t, queued.ID, res.JobID)
	require.Equal(t, "extractive", res.Generator)
	require.Contains(t, res.Answer, "flow sensor")
	require.NotEmpty(t, res.Citations)
	require.Equal(t, doc.ID, res.Citations[0].DocumentID)
	require.NotEmpty(t, res.Passages)
	require.LessOrEqual(t, len(res.Passages), 3)

	t.Run("NothingIndexed", func(t *testing.T) {
		// Another tenant has no documents: an answer without citations,
		// and citations is [] rather than null.
		queued, err := b.EnqueueQuery(t.Context(), "empty-tenant", "What does error code E42 mean?", 0)
		require.NoError(t, err)
		job := b.WaitJob(t, "empty-tenant", queued.ID)
		require.Equal(t, ragqueue.StateSucceeded, job.State, "error: %s", job.Error)
		var raw map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(job.Result, &raw))
		require.JSONEq(t, `[]`, string(raw["citations"]))
		require.JSONEq(t, `[]`, string(raw["passages"]))
	})
}

// panickyGenerator panics, as a buggy generator might.
type panickyGenerator struct{ retrieval.Generator }

func (panickyGenerator) Generate(context.Context, string, []retrieval.Passage) (retrieval.Answer, error) {
	panic("generator bug")
}

func TestHandlerPanicFailsJob(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	d := b.Deps(&recorder{})
	d.Generator = panickyGenerator{}
	mux := b.WorkerMux(d)
	// Outside an Asynq server nothing retries, so the failure is final.
	job := ragqueue.Job{ID: "job-1", Tenant: b.tenant, Type: ragqueue.KindQuery, State: ragqueue.StateQueued}
	require.NoError(t, b.Store.CreateJob(t.Context(), job))
	task, err := jobs.NewTask(jobs.QueryArgs{Tenant: b.tenant, JobID: job.ID, Question: "why?"})
	require.NoError(t, err)
	err = mux.ProcessTask(t.Context(), task)
	require.ErrorContains(t, err, "generator bug")
	got := b.GetJob(t, b.tenant, job.ID)
	require.Equal(t, ragqueue.StateFailed, got.State)
	require.Contains(t, got.Error, "panicked")
}

func TestFailInterruptedQueries(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	q1, err := b.EnqueueQuery(t.Context(), b.tenant, "first?", 0)
	require.NoError(t, err)
	q2, err := b.EnqueueQuery(t.Context(), "globex", "second?", 0)
	require.NoError(t, err)
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	require.NoError(t, b.EnqueueIngest(t.Context(), doc))

	n, err := queries.FailInterrupted(t.Context(), b.Store)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	for _, q := range []ragqueue.Job{q1, q2} {
		got := b.GetJob(t, q.Tenant, q.ID)
		require.Equal(t, ragqueue.StateFailed, got.State)
		require.Equal(t, "interrupted by a restart; ask again", got.Error)
	}
	ingestJob := b.GetJob(t, b.tenant, doc.JobID)
	require.Equal(t, ragqueue.StateQueued, ingestJob.State)
}

// TestFailInterruptedQueriesBehindIngestJobs: more unfinished ingest jobs
// than a page of the listing, all older, do not hide a query.
func TestFailInterruptedQueriesBehindIngestJobs(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	old := time.Now().Add(-time.Hour)
	for i := range 1001 {
		require.NoError(t, b.Store.CreateJob(t.Context(), ragqueue.Job{
			ID: fmt.Sprintf("ingest-%04d", i), Tenant: b.tenant, Type: ragqueue.KindIngest, State: ragqueue.StateQueued, CreatedAt: old,
		}))
	}
	q, err := b.EnqueueQuery(t.Context(), b.tenant, "still there?", 0)
	require.NoError(t, err)

	n, err := queries.FailInterrupted(t.Context(), b.Store)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, ragqueue.StateFailed, b.GetJob(t, q.Tenant, q.ID).State)
}

func TestWaitTimesOut(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	q, err := b.EnqueueQuery(t.Context(), b.tenant, "anyone there?", 0)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = b.Client.Wait(ctx, b.tenant, q.ID) // no server: never finishes
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, ragqueue.ETIMEOUT, ragqueue.ErrorCode(err))

	_, err = b.Client.Wait(t.Context(), b.tenant, "no-such-job")
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(err))
}

func TestEnqueueOptions(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	require.NoError(t, b.EnqueueIngest(t.Context(), doc))
	q, err := b.EnqueueQuery(t.Context(), b.tenant, "how?", 4)
	require.NoError(t, err)

	parse, err := b.Inspector.GetTaskInfo(jobs.QueueIngest, "ingest-parse-"+doc.ID+"-v1-"+doc.JobID)
	require.NoError(t, err)
	require.Equal(t, 5, parse.MaxRetry)
	require.Equal(t, 10*time.Minute, parse.Timeout)
	query, err := b.Inspector.GetTaskInfo(jobs.QueueQueries, q.ID)
	require.NoError(t, err)
	require.Equal(t, jobs.TaskQuery, query.Type)
	require.Equal(t, 2, query.MaxRetry)
	require.Equal(t, 2*time.Minute, query.Timeout)
	var args jobs.QueryArgs
	require.NoError(t, json.Unmarshal(query.Payload, &args))
	require.Equal(t, jobs.QueryArgs{Tenant: b.tenant, JobID: q.ID, Question: "how?", TopK: 4}, args)

	// The embed task that parse enqueues carries its own budget.
	mux := b.WorkerMux(b.Deps(b.Asynq))
	task, err := jobs.NewTask(jobs.ParseArgs{Tenant: b.tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: 1})
	require.NoError(t, err)
	require.NoError(t, mux.ProcessTask(t.Context(), task))
	embed, err := b.Inspector.GetTaskInfo(jobs.QueueIngest, "ingest-embed-"+doc.ID+"-v1-"+doc.JobID)
	require.NoError(t, err)
	require.Equal(t, 5, embed.MaxRetry)
	require.Equal(t, 30*time.Minute, embed.Timeout)
	require.Equal(t, jobs.TaskEmbed, embed.Type)
}
