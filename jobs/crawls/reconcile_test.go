package crawls_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/crawls"
)

// TestReconcileSchedulesLostRefresh: a refreshing crawl's next run lives in
// the database; when Redis has lost the delayed task, Reconcile schedules it
// again, once, for the recorded time.
func TestReconcileSchedulesLostRefresh(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	next := time.Now().Add(time.Hour).UTC().Truncate(time.Microsecond)
	done := time.Now().UTC()
	cr := ragqueue.Crawl{
		ID: "crawl-" + b.tenant, Tenant: b.tenant, JobID: "job-" + b.tenant, Status: ragqueue.StateSucceeded,
		Spec:        ragqueue.CrawlSpec{URLs: []string{"https://example.com/"}, MaxPages: 5, Refresh: "1h"},
		CompletedAt: &done, NextRunAt: &next,
	}
	require.NoError(t, b.Store.CreateCrawl(t.Context(), cr))

	ac := asynq.NewClient(b.Redis)
	t.Cleanup(func() { _ = ac.Close() })
	client := jobs.NewClient(ac, b.Store, b.Logger)
	crawler := crawls.New(crawls.Config{Crawls: b.Store, Documents: b.Deps(ac).Documents(nil), Client: client, Tracker: b.Tracker(ac, nil), Logger: b.Logger})
	for range 2 { // the second pass finds the task by its ID and adds nothing
		_, err := jobs.Reconcile(t.Context(), b.Deps(ac).Documents(client).ReconcilePass, crawler.ReconcilePass)
		require.NoError(t, err)
	}
	scheduled, err := b.Inspector.ListScheduledTasks(jobs.QueueIngest)
	require.NoError(t, err)
	require.Len(t, scheduled, 1)
	require.Equal(t, jobs.TaskCrawl, scheduled[0].Type)
	require.WithinDuration(t, next, scheduled[0].NextProcessAt, time.Second)
	var args jobs.CrawlArgs
	require.NoError(t, json.Unmarshal(scheduled[0].Payload, &args))
	require.Equal(t, cr.ID, args.CrawlID)
	require.NotEqual(t, cr.JobID, args.JobID, "the refresh run has a job of its own")
	job := b.GetJob(t, b.tenant, args.JobID)
	require.Equal(t, ragqueue.StateQueued, job.State)
	require.Equal(t, ragqueue.KindCrawl, job.Type)

	// The refresh run starts (as the crawl task records it): its task,
	// still in Redis, keeps the reconciler from enqueueing another run
	// of the same crawl beside it.
	cr.Status, cr.JobID, cr.NextRunAt, cr.CompletedAt = ragqueue.StateActive, args.JobID, nil, nil
	require.NoError(t, b.Store.UpdateCrawl(t.Context(), cr))
	n, err := jobs.Reconcile(t.Context(), b.Deps(ac).Documents(client).ReconcilePass, crawler.ReconcilePass)
	require.NoError(t, err)
	require.Zero(t, n, "the running refresh is not enqueued again")
	pending, err := b.Inspector.ListPendingTasks(jobs.QueueIngest)
	require.NoError(t, err)
	require.Empty(t, pending)
}
