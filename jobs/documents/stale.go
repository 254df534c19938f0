package documents

import (
	"context"
	"fmt"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// currentDoc loads the document a task is about. ok is false when there is
// nothing to do: the document was deleted, or a newer version or a retry
// (another job) replaced the one the task was for.
func (s *Service) currentDoc(ctx context.Context, tenant, docID string, version int, jobID string) (doc ragqueue.Document, ok bool, err error) {
	doc, err = s.cfg.Store.GetDocument(ctx, tenant, docID)
	if ragqueue.IsNotFound(err) {
		return doc, false, nil
	} else if err != nil {
		return doc, false, fmt.Errorf("documents: get document %s: %w", docID, err)
	}
	return doc, doc.Version == version && doc.JobID == jobID, nil
}

// endJob records a job's outcome u: as an update of its record, or, with
// create, as the record itself (an inline ingestion: ingestRun.inline).
func (s *Service) endJob(ctx context.Context, tenant, jobID string, u ragqueue.JobUpdate, create bool) error {
	if !create {
		return s.cfg.Tracker.Update(ctx, tenant, jobID, u)
	}
	now := time.Now().UTC()
	j := ragqueue.Job{ID: jobID, Tenant: tenant, Type: ragqueue.KindIngest, State: *u.State, Progress: u.Progress, Result: u.Result,
		CreatedAt: now, UpdatedAt: now, CompletedAt: &now}
	if u.Error != nil {
		j.Error = *u.Error
	}
	return s.cfg.Tracker.Create(ctx, j)
}

// skipStale settles a task whose work became moot: the document was
// deleted, or a newer version or a retry took over. The task succeeds (there
// is nothing to retry), and its job, unless already finished or still the
// document's current job, is marked canceled saying why, so that a client
// polling it is not left waiting. create says that the job has no record
// yet (an inline ingestion: ingestRun.inline): it is created canceled.
func (s *Service) skipStale(ctx context.Context, tenant, docID, jobID string, version int, create bool) error {
	var reason string
	doc, err := s.cfg.Store.GetDocument(ctx, tenant, docID)
	switch {
	case ragqueue.IsNotFound(err):
		reason = "the document was deleted"
	case err != nil:
		return fmt.Errorf("documents: get document %s: %w", docID, err)
	case doc.JobID == jobID:
		return nil // the job still owns the document: not ours to cancel
	case doc.Version != version:
		reason = fmt.Sprintf("superseded by version %d of the document (job %s)", doc.Version, doc.JobID)
	default:
		reason = fmt.Sprintf("superseded by job %s, a retry of the document", doc.JobID)
	}
	canceled := ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateCanceled), Error: &reason}
	if create {
		if err := s.endJob(ctx, tenant, jobID, canceled, true); err != nil {
			s.cfg.Logger.WarnContext(ctx, "record canceled ingest job", "tenant", tenant, "job_id", jobID, "error", err)
		}
		return nil
	}
	job, err := s.cfg.Tracker.Get(ctx, tenant, jobID)
	if err != nil || job.State.Terminal() {
		return nil
	}
	s.cfg.Tracker.Set(ctx, tenant, jobID, canceled)
	return nil
}
