package ragqueue

import (
	"encoding/json"
	"time"
)

// State is a job's state as clients see it.
type State string

// Job states. succeeded, failed and canceled are terminal.
const (
	StateQueued    State = "queued"
	StateActive    State = "active"
	StateRetrying  State = "retrying"
	StateSucceeded State = "succeeded"
	StateFailed    State = "failed"
	StateCanceled  State = "canceled"
)

// Terminal reports whether no more work will happen for the job.
func (s State) Terminal() bool {
	return s == StateSucceeded || s == StateFailed || s == StateCanceled
}

// Job kinds as clients see them in GET /v1/jobs/{id}.
const (
	KindIngest = "ingest"
	KindQuery  = "query"
)

// Job is the client-visible record of one piece of asynchronous work. A job
// may run as several Asynq tasks (ingest: parse, then embed); all of them
// report into the same record in the metadata database.
type Job struct {
	ID          string          `json:"id"`
	Tenant      string          `json:"-"`
	Type        string          `json:"type"`
	State       State           `json:"state"`
	Progress    json.RawMessage `json:"progress"`
	Result      json.RawMessage `json:"result"`
	Error       string          `json:"error"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"-"`
	CompletedAt *time.Time      `json:"completed_at"`
	// CallbackURL, when set, receives a signed POST when the job ends
	// (webhook.go). Set at creation only.
	CallbackURL string `json:"-"`
}

// JobUpdate changes a job. Nil fields are left as they are.
type JobUpdate struct {
	State    *State
	Progress json.RawMessage
	Result   json.RawMessage
	Error    *string
}
