package jobs

import (
	"context"
	"log/slog"

	"github.com/ragqueue/ragqueue"
)

// EventPublisher appends events to a job's event stream (a Redis Stream,
// see storage/redis). Publishing is best effort: the job record stays
// the truth, and a failed publish never fails the job.
type EventPublisher interface {
	PublishEvent(ctx context.Context, tenant, jobID string, ev ragqueue.Event) error
}

// NewEvent builds an event whose data is v encoded as JSON.
func NewEvent(typ string, v any) ragqueue.Event {
	return ragqueue.Event{Type: typ, Data: MustMarshal(v)}
}

// UpdateEvents returns the events a job update means for the job's
// followers: progress for new progress; for a terminal state the result or
// the error, then done; for retrying, the error.
func UpdateEvents(u ragqueue.JobUpdate) []ragqueue.Event {
	var evs []ragqueue.Event
	if len(u.Progress) > 0 {
		evs = append(evs, ragqueue.Event{Type: ragqueue.EventProgress, Data: u.Progress})
	}
	if u.State == nil {
		return evs
	}
	switch st := *u.State; {
	case st == ragqueue.StateRetrying && u.Error != nil:
		evs = append(evs, NewEvent(ragqueue.EventError, ragqueue.ErrorEvent{Error: *u.Error, State: st}))
	case st.Terminal():
		if len(u.Result) > 0 {
			evs = append(evs, ragqueue.Event{Type: ragqueue.EventResult, Data: u.Result})
		}
		if st != ragqueue.StateSucceeded {
			msg := ""
			if u.Error != nil {
				msg = *u.Error
			}
			evs = append(evs, NewEvent(ragqueue.EventError, ragqueue.ErrorEvent{Error: msg, State: st}))
		}
		evs = append(evs, NewEvent(ragqueue.EventDone, ragqueue.DoneEvent{State: st}))
	}
	return evs
}

// PublishUpdate publishes the events of a job update (UpdateEvents),
// logging rather than returning failures. A nil pub does nothing.
func PublishUpdate(ctx context.Context, pub EventPublisher, logger *slog.Logger, tenant, jobID string, u ragqueue.JobUpdate) {
	if pub == nil {
		return
	}
	for _, ev := range UpdateEvents(u) {
		publish(ctx, pub, logger, tenant, jobID, ev)
	}
}

func publish(ctx context.Context, pub EventPublisher, logger *slog.Logger, tenant, jobID string, ev ragqueue.Event) {
	if err := pub.PublishEvent(ctx, tenant, jobID, ev); err != nil && logger != nil {
		logger.WarnContext(ctx, "publish job event", "tenant", tenant, "job_id", jobID, "event", ev.Type, "error", err)
	}
}
