package documents

import (
	"context"
	"fmt"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// ReconcilePass is the documents' reconciliation pass: it enqueues the
// ingestion of every unfinished (queued or processing) document again. A
// document whose task is still in Redis is left alone (the task ID makes the
// enqueue a no-op); one whose task Redis lost gets a new task. With grace,
// documents in processing that changed less than grace ago are left alone:
// their task may have finished its stage and handed over to another (parse
// to embed) that the first task's ID no longer guards, and running the stage
// again would only waste work. It is a jobs.ReconcilePass.
func (s *Service) ReconcilePass(ctx context.Context, grace time.Duration) (requeued int, err error) {
	docs, err := s.cfg.Store.UnfinishedDocuments(ctx, jobs.ReconcileLimit)
	if err != nil {
		return 0, fmt.Errorf("documents: list unfinished documents: %w", err)
	}
	if len(docs) == jobs.ReconcileLimit {
		s.cfg.Logger.WarnContext(ctx, "reconcile: more unfinished documents than one pass handles", "limit", jobs.ReconcileLimit)
	}
	cutoff := time.Now().Add(-grace)
	for _, doc := range docs {
		if grace > 0 && doc.Status == ragqueue.StatusProcessing && doc.UpdatedAt.After(cutoff) {
			continue
		}
		enqueued, err := s.enqueueIngest(ctx, doc)
		if ragqueue.ErrorCode(err) == ragqueue.EINVALID {
			// A record we cannot enqueue (no job ID): skip it, do the rest.
			s.cfg.Logger.WarnContext(ctx, "reconcile: skip document", "doc_id", doc.ID, "tenant", doc.Tenant, "error", err)
			continue
		} else if err != nil {
			return requeued, err
		}
		if enqueued {
			requeued++
			s.cfg.Logger.InfoContext(ctx, "reconcile: re-enqueued lost ingestion", "doc_id", doc.ID, "tenant", doc.Tenant, "job_id", doc.JobID, "version", doc.Version)
		}
	}
	return requeued, nil
}
