package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
)

// reconcileLimit bounds one reconciliation pass; unfinished documents beyond
// it are picked up by the next pass.
const reconcileLimit = 10000

// Reconcile makes the queue agree with the database, which is the truth: it
// enqueues the ingestion of every unfinished (queued or processing) document
// again, and every unfinished crawl (which starts over; its pages are
// deduplicated by URL). A document whose task is still in Redis is left alone (the task ID
// makes the enqueue a no-op); one whose task Redis lost gets a new task. It
// returns how many tasks it added. Run it at worker or API start.
func Reconcile(ctx context.Context, store Store, c *Client, logger *slog.Logger) (requeued int, err error) {
	return reconcile(ctx, store, c, logger, 0)
}

// reconcile is Reconcile, leaving alone the documents in processing that
// changed less than processingGrace ago: their task may have finished its
// stage and handed over to another (parse to embed) that the first task's
// ID no longer guards, and running the stage again would only waste work.
func reconcile(ctx context.Context, store Store, c *Client, logger *slog.Logger, processingGrace time.Duration) (requeued int, err error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	docs, err := store.UnfinishedDocuments(ctx, reconcileLimit)
	if err != nil {
		return 0, fmt.Errorf("jobs: reconcile: list unfinished documents: %w", err)
	}
	if len(docs) == reconcileLimit {
		logger.WarnContext(ctx, "reconcile: more unfinished documents than one pass handles", "limit", reconcileLimit)
	}
	cutoff := time.Now().Add(-processingGrace)
	for _, doc := range docs {
		if processingGrace > 0 && doc.Status == ragqueue.StatusProcessing && doc.UpdatedAt.After(cutoff) {
			continue
		}
		enqueued, err := c.enqueueIngest(ctx, doc)
		if ragqueue.ErrorCode(err) == ragqueue.EINVALID {
			// A record we cannot enqueue (no job ID): skip it, do the rest.
			logger.WarnContext(ctx, "reconcile: skip document", "doc_id", doc.ID, "tenant", doc.Tenant, "error", err)
			continue
		} else if err != nil {
			return requeued, fmt.Errorf("jobs: reconcile: %w", err)
		}
		if enqueued {
			requeued++
			logger.InfoContext(ctx, "reconcile: re-enqueued lost ingestion", "doc_id", doc.ID, "tenant", doc.Tenant, "job_id", doc.JobID, "version", doc.Version)
		}
	}
	crawls, err := store.UnfinishedCrawls(ctx, reconcileLimit)
	if err != nil {
		return requeued, fmt.Errorf("jobs: reconcile: list unfinished crawls: %w", err)
	}
	for _, cr := range crawls {
		if cr.Status.Terminal() && cr.NextRunAt != nil {
			// A refresh run is due at NextRunAt; its task ID makes this a
			// no-op when Redis still holds it.
			if err := c.scheduleRefresh(ctx, cr); err != nil {
				return requeued, fmt.Errorf("jobs: reconcile: %w", err)
			}
			continue
		}
		enqueued, err := c.enqueueCrawl(ctx, cr)
		if err != nil {
			return requeued, fmt.Errorf("jobs: reconcile: %w", err)
		}
		if enqueued {
			requeued++
			logger.InfoContext(ctx, "reconcile: re-enqueued lost crawl", "crawl_id", cr.ID, "tenant", cr.Tenant, "job_id", cr.JobID)
		}
	}
	return requeued, nil
}

// interruptedMessage is the error a query job gets when a restart lost it.
const interruptedMessage = "interrupted by a restart; ask again"

// FailInterruptedQueries fails every unfinished query job. It is for
// embedded mode at start: its in-memory Redis lost the tasks, and a question
// is cheap to ask again whereas a client waiting forever is not. Ingest jobs
// are left to Reconcile. It returns how many jobs it failed.
func FailInterruptedQueries(ctx context.Context, store ragqueue.JobStore) (int, error) {
	const page = 1000
	failed, msg := ragqueue.StateFailed, interruptedMessage
	n := 0
	for {
		// Only queries: any number of unfinished ingest jobs ahead of them
		// must not hide them.
		jobs, err := store.UnfinishedJobs(ctx, ragqueue.KindQuery, page)
		if err != nil {
			return n, fmt.Errorf("jobs: fail interrupted queries: %w", err)
		}
		for _, j := range jobs {
			if err := store.UpdateJob(ctx, j.Tenant, j.ID, ragqueue.JobUpdate{State: &failed, Error: &msg}); err != nil {
				return n, fmt.Errorf("jobs: fail interrupted query %s: %w", j.ID, err)
			}
			n++
		}
		// Failed jobs drop out of the listing: go on while pages are full.
		if len(jobs) < page {
			return n, nil
		}
	}
}

// ReconcileEvery is how often the workers reconcile the queue with the
// database, besides at start.
const ReconcileEvery = time.Minute

// reconcileGrace is how long a document may stay in processing before the
// periodic reconciler enqueues it again: the longest stage (embedding)
// plus a margin. A document whose task Redis still holds is never
// duplicated (task IDs); this only spares the work of a stage that
// finished while the next one runs.
const reconcileGrace = embedTimeout + 5*time.Minute

// reconcileTask is the periodic pass.
func (h *handlers) reconcileTask(ctx context.Context, _ ReconcileArgs) error {
	n, err := reconcile(ctx, h.Store, h.client, h.Logger, reconcileGrace)
	if n > 0 {
		h.Logger.InfoContext(ctx, "reconcile: re-enqueued lost work", "count", n)
	}
	return err
}

func (h *handlers) reconcileFailed(_ context.Context, _ ReconcileArgs, err error) error { return err }

// StartReconciler runs an Asynq scheduler that enqueues a reconciliation
// pass every ReconcileEvery. Every worker process runs one; the task's
// uniqueness lock makes their ticks one pass. Stop it with Shutdown.
func StartReconciler(r asynq.RedisConnOpt, logger *slog.Logger) (*asynq.Scheduler, error) {
	task, err := NewTask(ReconcileArgs{})
	if err != nil {
		return nil, err
	}
	s := asynq.NewScheduler(r, &asynq.SchedulerOpts{
		Logger:   NewAsynqLogger(logger),
		LogLevel: asynq.WarnLevel,
		EnqueueErrorHandler: func(_ *asynq.Task, _ []asynq.Option, err error) {
			if !errors.Is(err, asynq.ErrDuplicateTask) {
				logger.Warn("reconcile: could not enqueue the periodic pass", "error", err)
			}
		},
	})
	if _, err := s.Register(fmt.Sprintf("@every %s", ReconcileEvery), task); err != nil {
		return nil, fmt.Errorf("jobs: register reconciler: %w", err)
	}
	if err := s.Start(); err != nil {
		return nil, fmt.Errorf("jobs: start reconciler: %w", err)
	}
	return s, nil
}
