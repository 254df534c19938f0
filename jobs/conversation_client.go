package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
)

// EnqueueQueryArgs is EnqueueQuery with every option of a question: a's
// Tenant, Question, TopK and URLs as there, and its ConversationID and
// cache switches. a.JobID is ignored: a new job is created and returned.
func (c *Client) EnqueueQueryArgs(ctx context.Context, a QueryArgs, opts ...EnqueueOption) (Job, error) {
	if a.Tenant == "" || a.Question == "" {
		return Job{}, ragqueue.Errorf(ragqueue.EINVALID, "a query needs a tenant and a question")
	} else if a.TopK < 0 {
		return Job{}, ragqueue.Errorf(ragqueue.EINVALID, "top_k must not be negative")
	}
	now := time.Now().UTC()
	job := Job{ID: uuid.NewString(), Tenant: a.Tenant, Type: KindQuery, State: StateQueued, CreatedAt: now, UpdatedAt: now}
	for _, o := range opts {
		o(&job)
	}
	if err := c.store.CreateJob(ctx, job); err != nil {
		return Job{}, fmt.Errorf("jobs: create query job: %w", err)
	}
	a.JobID = job.ID
	task, err := NewTask(a, asynq.TaskID(job.ID))
	if err != nil {
		return Job{}, err
	}
	if _, err := c.q.EnqueueContext(ctx, task); err != nil {
		// Nobody will ever run this job: say so rather than leave it queued.
		failed, msg := StateFailed, "could not enqueue: the job queue is unavailable"
		sctx, cancel := settleContext(ctx)
		defer cancel()
		if uerr := c.store.UpdateJob(sctx, a.Tenant, job.ID, JobUpdate{State: &failed, Error: &msg}); uerr != nil {
			c.logger.WarnContext(ctx, "mark unqueued query failed", "job_id", job.ID, "tenant", a.Tenant, "error", uerr)
		}
		return Job{}, fmt.Errorf("jobs: enqueue query %s: %w: %w", job.ID, errQueueUnavailable(), err)
	}
	return job, nil
}
