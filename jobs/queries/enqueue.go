package queries

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// Enqueue records a new query job and enqueues its task: a's Tenant,
// Question, TopK and URLs, its ConversationID and cache switches, and opts
// on the job record. a.JobID is ignored: a new job is created and returned.
// A task that cannot be enqueued fails its job and comes back as an
// EUNAVAILABLE error.
func (s *Service) Enqueue(ctx context.Context, a jobs.QueryArgs, opts ...jobs.EnqueueOption) (ragqueue.Job, error) {
	if a.Tenant == "" || a.Question == "" {
		return ragqueue.Job{}, ragqueue.Errorf(ragqueue.EINVALID, "a query needs a tenant and a question")
	} else if a.TopK < 0 {
		return ragqueue.Job{}, ragqueue.Errorf(ragqueue.EINVALID, "top_k must not be negative")
	}
	job := jobs.QueuedJob(uuid.NewString(), a.Tenant, ragqueue.KindQuery, opts...)
	if err := s.cfg.Client.EnsureJob(ctx, job); err != nil {
		return ragqueue.Job{}, fmt.Errorf("queries: %w", err)
	}
	a.JobID = job.ID
	if _, err := s.cfg.Client.Enqueue(ctx, a); err != nil {
		s.cfg.Client.SettleUnqueued(ctx, a.Tenant, job.ID, ragqueue.StateFailed, jobs.UnqueuedMessage)
		return ragqueue.Job{}, fmt.Errorf("queries: enqueue query %s: %w: %w", job.ID, jobs.ErrQueueUnavailable(), err)
	}
	return job, nil
}
