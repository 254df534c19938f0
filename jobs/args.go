package jobs

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// Retry budgets and time limits per task kind.
const (
	ingestMaxRetry = 5
	queryMaxRetry  = 2
	parseTimeout   = 10 * time.Minute
	embedTimeout   = 30 * time.Minute
	queryTimeout   = 2 * time.Minute
)

// Args is the typed payload of one kind of task, as in River: one struct per
// kind, serialised as JSON, carrying IDs only (never document bytes or
// vectors), so that a task stays small and the database stays the truth.
type Args interface {
	// Kind is the Asynq task type the args are enqueued and routed under.
	Kind() string
}

// ArgsWithOptions is implemented by Args that carry default task options
// (queue, retry budget, timeout). NewTask applies them first, so options the
// caller passes win.
type ArgsWithOptions interface {
	Args
	TaskOptions() []asynq.Option
}

// ArgsWithID is implemented by Args that name their own task: NewTask
// applies asynq.TaskID(TaskID()) before any other option, so that whoever
// enqueues them (a use case, another feature's handler, the reconciler) gets
// the same idempotency ID. A later asynq.TaskID option still wins.
type ArgsWithID interface {
	Args
	TaskID() string
}

func validateDocArgs(tenant, docID, jobID string, version int) error {
	switch {
	case tenant == "":
		return fmt.Errorf("tenant is empty")
	case docID == "":
		return fmt.Errorf("document_id is empty")
	case jobID == "":
		return fmt.Errorf("job_id is empty")
	case version < 1:
		return fmt.Errorf("version %d is not positive", version)
	}
	return nil
}

func docAttrs(tenant, docID, jobID string) []slog.Attr {
	return []slog.Attr{slog.String("tenant", tenant), slog.String("doc_id", docID), slog.String("job_id", jobID)}
}

// validator is implemented by Args that can check a decoded payload.
type validator interface{ validate() error }

// logAttrser is implemented by Args that name what they are about in logs.
type logAttrser interface{ logAttrs() []slog.Attr }
