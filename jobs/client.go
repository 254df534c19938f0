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

// Enqueuer puts tasks on the queue. *asynq.Client satisfies it; the API and
// the handlers (which enqueue follow-up tasks) depend on this instead.
type Enqueuer interface {
	EnqueueContext(ctx context.Context, t *asynq.Task, opts ...asynq.Option) (*asynq.TaskInfo, error)
}

var _ Enqueuer = (*asynq.Client)(nil)

// Client is how the API starts asynchronous work: it records the job in the
// metadata database, then enqueues the task that will do it.
type Client struct {
	q      Enqueuer
	store  ragqueue.JobStore
	logger *slog.Logger
}

// NewClient returns a Client that enqueues on q and records jobs in store.
// A nil logger discards.
func NewClient(q Enqueuer, store ragqueue.JobStore, logger *slog.Logger) *Client {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Client{q: q, store: store, logger: logger}
}

// Enqueue puts the task of a on the queue (NewTask: its own ID and options,
// then opts). added is false when a task of that ID is already known to
// Asynq (asynq.ErrTaskIDConflict), which is not an error; any other error
// comes back as the queue returned it.
func (c *Client) Enqueue(ctx context.Context, a Args, opts ...asynq.Option) (added bool, err error) {
	task, err := NewTask(a, opts...)
	if err != nil {
		return false, err
	}
	_, err = c.q.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// Job returns job id of tenant as recorded.
func (c *Client) Job(ctx context.Context, tenant, id string) (ragqueue.Job, error) {
	return c.store.GetJob(ctx, tenant, id)
}

// QueuedJob is the record of a new job of kind, queued now, adjusted by opts.
func QueuedJob(id, tenant, kind string, opts ...EnqueueOption) ragqueue.Job {
	now := time.Now().UTC()
	job := ragqueue.Job{ID: id, Tenant: tenant, Type: kind, State: ragqueue.StateQueued, CreatedAt: now, UpdatedAt: now}
	for _, o := range opts {
		o(&job)
	}
	return job
}

// UnqueuedMessage is what a job records when its task could not be enqueued.
const UnqueuedMessage = "could not enqueue: the job queue is unavailable"

// SettleUnqueued records state and msg on a job whose task never reached
// the queue: nobody will ever run it, so it must not be left queued.
func (c *Client) SettleUnqueued(ctx context.Context, tenant, jobID string, state ragqueue.State, msg string) {
	sctx, cancel := SettleContext(ctx)
	defer cancel()
	if err := c.store.UpdateJob(sctx, tenant, jobID, ragqueue.JobUpdate{State: &state, Error: &msg}); err != nil {
		c.logger.WarnContext(ctx, "settle a job whose task was not enqueued", "tenant", tenant, "job_id", jobID, "error", err)
	}
}

// ErrQueueUnavailable is what the API shows when Redis refuses a task.
func ErrQueueUnavailable() error {
	return ragqueue.Errorf(ragqueue.EUNAVAILABLE, "the job queue is unavailable; try again shortly")
}

// EnsureJob creates j, or accepts that it already exists (a re-enqueue):
// CreateJob leaves an existing job alone without error.
func (c *Client) EnsureJob(ctx context.Context, j ragqueue.Job) error {
	if err := c.store.CreateJob(ctx, j); err != nil {
		return fmt.Errorf("jobs: create job %s: %w", j.ID, err)
	}
	return nil
}
