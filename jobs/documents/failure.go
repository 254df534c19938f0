package documents

import (
	"context"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// rejection is an input error: the document itself is unusable.
type rejection struct{ err error }

func (r rejection) Error() string { return r.err.Error() }

func (r rejection) Unwrap() error { return r.err }

// isInputError reports whether err says the input is unusable, as opposed to
// the machinery having failed.
func isInputError(err error) bool {
	switch ragqueue.ErrorCode(err) {
	case ragqueue.EINVALID, ragqueue.EUNSUPPORTED, ragqueue.ETOOLARGE:
		return true
	}
	return false
}

// docFailed records a final failure on a document version; a document that
// was deleted or replaced meanwhile is left alone.
func (s *Service) docFailed(ctx context.Context, tenant, docID string, version int, status ragqueue.Status, msg string) {
	err := s.cfg.Store.SetDocumentStatus(ctx, tenant, docID, version, status, msg)
	if err != nil && !ragqueue.IsNotFound(err) {
		s.cfg.Logger.WarnContext(ctx, "set document status", "tenant", tenant, "doc_id", docID, "status", status, "error", err)
	}
}

// ingestFailed settles a failed parse or embed attempt. A rejection marks the
// document rejected and is never retried; any other error marks the job
// retrying, or on the last attempt fails both document and job.
func (s *Service) ingestFailed(ctx context.Context, tenant, docID, jobID string, version int, err error) error {
	ctx, cancel := jobs.SettleContext(ctx)
	defer cancel()
	var rej rejection
	if errors.As(err, &rej) {
		msg := ragqueue.ErrorMessage(rej.err)
		s.docFailed(ctx, tenant, docID, version, ragqueue.StatusRejected, msg)
		failed := ragqueue.StateFailed
		s.cfg.Tracker.Set(ctx, tenant, jobID, ragqueue.JobUpdate{State: &failed, Error: &msg})
		return fmt.Errorf("documents: reject document %s: %w: %w", docID, err, asynq.SkipRetry)
	}
	// The document first: it is the truth the reconciler works from.
	if !jobs.WillRetry(ctx, err) {
		s.docFailed(ctx, tenant, docID, version, ragqueue.StatusFailed, jobs.FailureMessage(err))
	}
	s.cfg.Tracker.Failed(ctx, tenant, jobID, err)
	return err
}

func (s *Service) parseFailed(ctx context.Context, a jobs.ParseArgs, err error) error {
	return s.ingestFailed(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, err)
}

func (s *Service) embedFailed(ctx context.Context, a jobs.EmbedArgs, err error) error {
	return s.ingestFailed(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, err)
}
