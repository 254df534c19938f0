package ragqueue

import (
	"encoding/json"
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
