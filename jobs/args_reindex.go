package jobs

import (
	"errors"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
)

// TaskReindex is the Asynq task type of a re-index into a new embedding space.
const TaskReindex = "index:reindex"

// KindReindex is the job kind of a re-index, as clients see it.
const KindReindex = "reindex"

// ReindexArgs asks a worker to build the embedding space of Embedder (a
// RAGQ_EMBEDDER setting) from the stored chunks and make it live.
type ReindexArgs struct {
	// Tenant owns the job record (the admin who asked); the re-index covers
	// every tenant.
	Tenant   string `json:"tenant"`
	Embedder string `json:"embedder"`
	JobID    string `json:"job_id"`
}

// Kind implements Args.
func (ReindexArgs) Kind() string { return TaskReindex }

// TaskOptions implements ArgsWithOptions: the maintenance queue, a long
// timeout, and retries that start over (every step is idempotent).
func (ReindexArgs) TaskOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueMaintenance), asynq.MaxRetry(5), asynq.Timeout(12 * time.Hour)}
}

// TaskID implements ArgsWithID: it names the embedder only, so that one
// re-index into a space runs at a time.
func (a ReindexArgs) TaskID() string {
	return "reindex-" + uuid.NewSHA1(reindexNamespace, []byte(a.Embedder)).String()
}

func (a ReindexArgs) validate() error {
	switch {
	case a.Tenant == "":
		return errors.New("tenant is empty")
	case a.Embedder == "":
		return errors.New("embedder is empty")
	case a.JobID == "":
		return errors.New("job_id is empty")
	}
	return nil
}

func (a ReindexArgs) logAttrs() []slog.Attr {
	return []slog.Attr{slog.String("tenant", a.Tenant), slog.String("embedder", a.Embedder), slog.String("job_id", a.JobID)}
}

// reindexNamespace scopes re-index task IDs.
var reindexNamespace = uuid.MustParse("0b6f3f57-54a4-4c43-9d0e-7f0e3b8a91c2")
