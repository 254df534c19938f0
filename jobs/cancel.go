package jobs

import (
	"context"
	"errors"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
)

// TaskCanceler stops queued and running tasks. *asynq.Inspector is one.
type TaskCanceler interface {
	CancelProcessing(id string) error
	DeleteTask(queue, id string) error
}

var _ TaskCanceler = (*asynq.Inspector)(nil)

// Canceler cancels a job nobody waits for any more: its record says
// canceled (and its followers are told), its queued task is deleted and a
// running one is cancelled, which cancels the handler's context. It writes
// the record directly, as the API side does: no webhook is sent.
type Canceler struct {
	store  ragqueue.JobStore
	events EventPublisher
	tasks  TaskCanceler
	logger *slog.Logger
}

// NewCanceler returns a Canceler. events and tasks may be nil: then
// followers are not told, or the task is left to find the record canceled.
func NewCanceler(store ragqueue.JobStore, events EventPublisher, tasks TaskCanceler, logger *slog.Logger) *Canceler {
	if store == nil {
		panic("jobs: NewCanceler needs a job store")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Canceler{store: store, events: events, tasks: tasks, logger: logger}
}

// Cancel cancels the tenant's job jobID, whose task (named by the job ID)
// runs on queue, recording reason as its error. It reports whether the job
// was canceled: false when it is unknown or already finished, or its record
// could not be written (logged).
func (c *Canceler) Cancel(ctx context.Context, tenant, jobID, queue, reason string) bool {
	job, err := c.store.GetJob(ctx, tenant, jobID)
	if err != nil || job.State.Terminal() {
		return false
	}
	st := ragqueue.StateCanceled
	u := ragqueue.JobUpdate{State: &st, Error: &reason}
	if err := c.store.UpdateJob(ctx, tenant, jobID, u); err != nil {
		c.logger.WarnContext(ctx, "cancel job", "job_id", jobID, "error", err)
		return false
	}
	PublishUpdate(ctx, c.events, c.logger, tenant, jobID, u)
	if c.tasks == nil {
		return true
	}
	if err := c.tasks.DeleteTask(queue, jobID); err != nil && !errors.Is(err, asynq.ErrTaskNotFound) && !errors.Is(err, asynq.ErrQueueNotFound) {
		c.logger.DebugContext(ctx, "delete canceled task", "job_id", jobID, "queue", queue, "error", err)
	}
	if err := c.tasks.CancelProcessing(jobID); err != nil {
		c.logger.WarnContext(ctx, "cancel running task", "job_id", jobID, "error", err)
	}
	return true
}
