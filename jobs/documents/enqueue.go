package documents

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// EnqueueIngest starts (or restarts) the ingestion of doc's current version
// under the job doc.JobID. It is idempotent: the job record is created if
// missing, and while the job's parse task is still known to Asynq (pending,
// scheduled, retrying, active or archived) the enqueue is a no-op. That is
// what lets the reconciler call it for every unfinished document. A job
// whose ingestion finally failed stays archived: to try again, give the
// document a new job (the store's RetryDocument) or a new version.
func (s *Service) EnqueueIngest(ctx context.Context, doc ragqueue.Document, opts ...jobs.EnqueueOption) error {
	_, err := s.enqueueIngest(ctx, doc, opts...)
	return err
}

// enqueueIngest is EnqueueIngest, also reporting whether a task was added.
func (s *Service) enqueueIngest(ctx context.Context, doc ragqueue.Document, opts ...jobs.EnqueueOption) (enqueued bool, err error) {
	if doc.ID == "" || doc.Tenant == "" || doc.JobID == "" || doc.Version < 1 {
		return false, ragqueue.Errorf(ragqueue.EINVALID, "document %q needs a tenant, a job ID and a version to be ingested", doc.ID)
	}
	if err := s.cfg.Client.EnsureJob(ctx, jobs.QueuedJob(doc.JobID, doc.Tenant, ragqueue.KindIngest, opts...)); err != nil {
		return false, err
	}
	args := jobs.ParseArgs{Tenant: doc.Tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: doc.Version}
	added, err := s.cfg.Client.Enqueue(ctx, args)
	if err != nil {
		return false, fmt.Errorf("documents: enqueue ingest of document %s: %w: %w", doc.ID, jobs.ErrQueueUnavailable(), err)
	} else if !added {
		s.cfg.Logger.DebugContext(ctx, "ingest already queued", "doc_id", doc.ID, "tenant", doc.Tenant, "job_id", doc.JobID)
		return false, nil
	}
	s.cfg.Logger.DebugContext(ctx, "ingest enqueued", "task_id", args.TaskID(), "doc_id", doc.ID, "tenant", doc.Tenant, "job_id", doc.JobID)
	return true, nil
}

// enqueueEmbed queues the embed task of a document version; its task ID
// makes a second enqueue of the same job (a retried parse) a no-op.
func (s *Service) enqueueEmbed(ctx context.Context, a jobs.EmbedArgs, opts ...asynq.Option) error {
	if _, err := s.cfg.Client.Enqueue(ctx, a, opts...); err != nil {
		return fmt.Errorf("documents: enqueue embedding of document %s: %w", a.DocumentID, err)
	}
	return nil
}
