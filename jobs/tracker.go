package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/ragqueue/ragqueue"
)

// ProgressEvery throttles the progress a task records while it runs.
const ProgressEvery = 250 * time.Millisecond

// Tracker records job progress and outcomes for task handlers; every update
// also reaches the job's followers: its events (events.go), and its webhook
// when it ends (webhook.go), so that a handler recording progress or an
// outcome need not know about them. API-side writes (cancellation, a job
// whose task was never enqueued, a cache hit) do not go through it.
type Tracker struct {
	store  ragqueue.JobStore
	enq    Enqueuer
	events EventPublisher
	logger *slog.Logger
}

// NewTracker returns a Tracker writing to store, enqueueing webhooks on enq
// and publishing events to events (nil: no events). A nil logger discards.
func NewTracker(store ragqueue.JobStore, enq Enqueuer, events EventPublisher, logger *slog.Logger) *Tracker {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Tracker{store: store, enq: enq, events: events, logger: logger}
}

// Update applies u to job id of tenant, then tells the job's followers.
func (t *Tracker) Update(ctx context.Context, tenant, id string, u ragqueue.JobUpdate) error {
	if err := t.store.UpdateJob(ctx, tenant, id, u); err != nil {
		return err
	}
	notifyWebhook(ctx, t.store, t.enq, t.logger, tenant, id, u)
	PublishUpdate(ctx, t.events, t.logger, tenant, id, u)
	return nil
}

// Set updates a job, logging rather than failing: the job record is a view
// for clients, the work itself already succeeded or failed.
func (t *Tracker) Set(ctx context.Context, tenant, id string, u ragqueue.JobUpdate) {
	if err := t.Update(ctx, tenant, id, u); err != nil {
		t.logger.WarnContext(ctx, "update job", "tenant", tenant, "job_id", id, "error", err)
	}
}

// Succeeded records a job's successful outcome u (its State is set).
// Unlike progress, the outcome must be recorded: a failure is returned, for
// the task to be retried. A job record that is gone (pruned) cannot be
// helped by retrying: that is not an error.
func (t *Tracker) Succeeded(ctx context.Context, tenant, id string, u ragqueue.JobUpdate) error {
	u.State = StatePtr(ragqueue.StateSucceeded)
	if err := t.Update(ctx, tenant, id, u); err != nil && !ragqueue.IsNotFound(err) {
		return fmt.Errorf("jobs: record outcome of job %s: %w", id, err)
	}
	return nil
}

// Failed records a failed attempt on the job: retrying when Asynq will run
// the task again, failed otherwise. It reports whether the failure is final.
func (t *Tracker) Failed(ctx context.Context, tenant, id string, err error) (final bool) {
	msg := FailureMessage(err)
	state := ragqueue.StateFailed
	if WillRetry(ctx, err) {
		state = ragqueue.StateRetrying
	}
	t.Set(ctx, tenant, id, ragqueue.JobUpdate{State: &state, Error: &msg})
	return state == ragqueue.StateFailed
}

// Create records j as it is, telling nobody: for the job of an inline
// ingestion, created in its final state when it ends (nobody follows it).
func (t *Tracker) Create(ctx context.Context, j ragqueue.Job) error {
	return t.store.CreateJob(ctx, j)
}

// Get returns job id of tenant.
func (t *Tracker) Get(ctx context.Context, tenant, id string) (ragqueue.Job, error) {
	return t.store.GetJob(ctx, tenant, id)
}

// Publish sends ev (a token or citation) to the job's followers, logging
// rather than failing. Without an EventPublisher it does nothing.
func (t *Tracker) Publish(ctx context.Context, tenant, id string, ev ragqueue.Event) {
	if t.events != nil {
		publish(ctx, t.events, t.logger, tenant, id, ev)
	}
}

// Following reports whether jobs have followers to publish events to: work
// done only for them (streaming an answer) is skipped otherwise.
func (t *Tracker) Following() bool { return t.events != nil }

// MustMarshal encodes a progress or result value; these are plain structs,
// so an error is a bug.
func MustMarshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("jobs: marshal %T: %v", v, err))
	}
	return b
}

// StatePtr returns a pointer to s, for JobUpdate.
func StatePtr(s ragqueue.State) *ragqueue.State { return &s }
