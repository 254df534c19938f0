package jobs

import (
	"context"
	"encoding/json"
	"log/slog"
)

// Event types, as SSE and WebSocket clients see them.
const (
	// EventToken carries a piece of a query's answer text: {"text": "..."}.
	EventToken = "token"
	// EventCitation carries one retrieval.Citation of a query's answer.
	EventCitation = "citation"
	// EventProgress carries a job's progress, as GET /v1/jobs/{id} shows it.
	EventProgress = "progress"
	// EventResult carries a job's result, as GET /v1/jobs/{id} shows it.
	EventResult = "result"
	// EventError carries an ErrorEvent.
	EventError = "error"
	// EventDone ends a job's events: {"state": "succeeded|failed|canceled"}.
	EventDone = "done"
)

// Event is one thing a job tells its followers while it runs. Data is JSON.
type Event struct {
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// TokenEvent is the data of a token event.
type TokenEvent struct {
	Text string `json:"text"`
}

// ErrorEvent is the data of an error event. When State is retrying the job
// will run again, and its token events start over.
type ErrorEvent struct {
	Error string `json:"error"`
	State State  `json:"state"`
}

// DoneEvent is the data of the done event.
type DoneEvent struct {
	State State `json:"state"`
}

// EventPublisher appends events to a job's event stream (a Redis Stream,
// see storage/redisstream). Publishing is best effort: the job record stays
// the truth, and a failed publish never fails the job.
type EventPublisher interface {
	PublishEvent(ctx context.Context, tenant, jobID string, ev Event) error
}

// NewEvent builds an event whose data is v encoded as JSON.
func NewEvent(typ string, v any) Event {
	return Event{Type: typ, Data: marshal(v)}
}

// UpdateEvents returns the events a job update means for the job's
// followers: progress for new progress; for a terminal state the result or
// the error, then done; for retrying, the error.
func UpdateEvents(u JobUpdate) []Event {
	var evs []Event
	if len(u.Progress) > 0 {
		evs = append(evs, Event{Type: EventProgress, Data: u.Progress})
	}
	if u.State == nil {
		return evs
	}
	switch st := *u.State; {
	case st == StateRetrying && u.Error != nil:
		evs = append(evs, NewEvent(EventError, ErrorEvent{Error: *u.Error, State: st}))
	case st.Terminal():
		if len(u.Result) > 0 {
			evs = append(evs, Event{Type: EventResult, Data: u.Result})
		}
		if st != StateSucceeded {
			msg := ""
			if u.Error != nil {
				msg = *u.Error
			}
			evs = append(evs, NewEvent(EventError, ErrorEvent{Error: msg, State: st}))
		}
		evs = append(evs, NewEvent(EventDone, DoneEvent{State: st}))
	}
	return evs
}

// PublishUpdate publishes the events of a job update (UpdateEvents),
// logging rather than returning failures. A nil pub does nothing.
func PublishUpdate(ctx context.Context, pub EventPublisher, logger *slog.Logger, tenant, jobID string, u JobUpdate) {
	if pub == nil {
		return
	}
	for _, ev := range UpdateEvents(u) {
		publish(ctx, pub, logger, tenant, jobID, ev)
	}
}

func publish(ctx context.Context, pub EventPublisher, logger *slog.Logger, tenant, jobID string, ev Event) {
	if err := pub.PublishEvent(ctx, tenant, jobID, ev); err != nil && logger != nil {
		logger.WarnContext(ctx, "publish job event", "tenant", tenant, "job_id", jobID, "event", ev.Type, "error", err)
	}
}
