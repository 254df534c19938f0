package jobs

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
)

// EnqueueQueryArgs is EnqueueQuery with every option of a question: a's
// Tenant, Question, TopK and URLs as there, and its ConversationID and
// cache switches. a.JobID is ignored: a new job is created and returned.
func (c *Client) EnqueueQueryArgs(ctx context.Context, a QueryArgs, opts ...EnqueueOption) (ragqueue.Job, error) {
	if a.Tenant == "" || a.Question == "" {
		return ragqueue.Job{}, ragqueue.Errorf(ragqueue.EINVALID, "a query needs a tenant and a question")
	} else if a.TopK < 0 {
		return ragqueue.Job{}, ragqueue.Errorf(ragqueue.EINVALID, "top_k must not be negative")
	}
	job := QueuedJob(uuid.NewString(), a.Tenant, ragqueue.KindQuery, opts...)
	if err := c.store.CreateJob(ctx, job); err != nil {
		return ragqueue.Job{}, fmt.Errorf("jobs: create query job: %w", err)
	}
	a.JobID = job.ID
	task, err := NewTask(a)
	if err != nil {
		return ragqueue.Job{}, err
	}
	if _, err := c.q.EnqueueContext(ctx, task); err != nil {
		c.SettleUnqueued(ctx, a.Tenant, job.ID, ragqueue.StateFailed, UnqueuedMessage)
		return ragqueue.Job{}, fmt.Errorf("jobs: enqueue query %s: %w: %w", job.ID, ErrQueueUnavailable(), err)
	}
	return job, nil
}
