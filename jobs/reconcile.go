package jobs

import (
	"context"
	"fmt"
	"log/slog"

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
	for _, doc := range docs {
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
func FailInterruptedQueries(ctx context.Context, store JobStore) (int, error) {
	const page = 1000
	failed, msg := StateFailed, interruptedMessage
	n := 0
	for {
		jobs, err := store.UnfinishedJobs(ctx, page)
		if err != nil {
			return n, fmt.Errorf("jobs: fail interrupted queries: %w", err)
		}
		changed := 0
		for _, j := range jobs {
			if j.Type != KindQuery {
				continue
			}
			if err := store.UpdateJob(ctx, j.Tenant, j.ID, JobUpdate{State: &failed, Error: &msg}); err != nil {
				return n, fmt.Errorf("jobs: fail interrupted query %s: %w", j.ID, err)
			}
			changed++
			n++
		}
		// Failed jobs drop out of the listing: go on while pages are full
		// and still yield queries; a full page of ingest jobs ends it.
		if len(jobs) < page || changed == 0 {
			return n, nil
		}
	}
}
