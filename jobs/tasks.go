package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/ragqueue/ragqueue"
)

// Task types: the Asynq type names (Args kinds) of ragqueue's tasks, defined
// here and nowhere else. Not to be confused with the job kinds clients see
// (KindIngest, KindQuery): one ingest job runs as a parse and an embed task.
const (
	TaskParse = "ingest:parse"
	TaskEmbed = "ingest:embed"
	TaskQuery = "query:answer"
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

// ParseArgs asks a worker to parse and chunk one version of a document.
type ParseArgs struct {
	Tenant     string `json:"tenant"`
	DocumentID string `json:"document_id"`
	JobID      string `json:"job_id"`
	Version    int    `json:"version"`
}

// Kind implements Args.
func (ParseArgs) Kind() string { return TaskParse }

// TaskOptions implements ArgsWithOptions: the ingest queue, 5 retries, 10 minutes.
func (ParseArgs) TaskOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueIngest), asynq.MaxRetry(ingestMaxRetry), asynq.Timeout(parseTimeout)}
}

// TaskID implements ArgsWithID. The tasks of one ingest job are named after
// it, so that enqueueing the same job twice (a reconciler pass, a repeated
// request) is refused by Asynq instead of running twice. The job is part of
// the name: a retry is a new job, and must not collide with the failed job's
// task, which Asynq keeps archived. Document and version are there for
// operators reading the queue.
func (a ParseArgs) TaskID() string {
	return "ingest-parse-" + a.DocumentID + "-v" + strconv.Itoa(a.Version) + "-" + a.JobID
}

func (a ParseArgs) validate() error {
	return validateDocArgs(a.Tenant, a.DocumentID, a.JobID, a.Version)
}

func (a ParseArgs) logAttrs() []slog.Attr { return docAttrs(a.Tenant, a.DocumentID, a.JobID) }

// EmbedArgs asks a worker to embed and index the stored chunks of one
// version of a document.
type EmbedArgs struct {
	Tenant     string `json:"tenant"`
	DocumentID string `json:"document_id"`
	JobID      string `json:"job_id"`
	Version    int    `json:"version"`
}

// Kind implements Args.
func (EmbedArgs) Kind() string { return TaskEmbed }

// TaskOptions implements ArgsWithOptions: the ingest queue, 5 retries, 30 minutes.
func (EmbedArgs) TaskOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueIngest), asynq.MaxRetry(ingestMaxRetry), asynq.Timeout(embedTimeout)}
}

// TaskID implements ArgsWithID: as ParseArgs.TaskID, for the embed stage.
func (a EmbedArgs) TaskID() string {
	return "ingest-embed-" + a.DocumentID + "-v" + strconv.Itoa(a.Version) + "-" + a.JobID
}

func (a EmbedArgs) validate() error {
	return validateDocArgs(a.Tenant, a.DocumentID, a.JobID, a.Version)
}

func (a EmbedArgs) logAttrs() []slog.Attr { return docAttrs(a.Tenant, a.DocumentID, a.JobID) }

// QueryArgs asks a worker to answer a question from a tenant's documents.
type QueryArgs struct {
	Tenant   string `json:"tenant"`
	JobID    string `json:"job_id"`
	Question string `json:"question"`
	TopK     int    `json:"top_k"`
	// URLs are pages the user named, fetched and indexed before answering
	// (at most Deps.QueryMaxURLs). Nothing else is ever fetched for a question.
	URLs []string `json:"urls,omitempty"`
	// ConversationID keeps the question in that conversation of the tenant
	// (created when new); a follow-up is rewritten into a standalone
	// question from the recent turns before retrieval.
	ConversationID string `json:"conversation_id,omitempty"`
	// NoCache turns the answer cache off for this question (request
	// "cache": false); CacheChecked says the API already looked it up.
	NoCache      bool `json:"no_cache,omitempty"`
	CacheChecked bool `json:"cache_checked,omitempty"`
}

// Kind implements Args.
func (QueryArgs) Kind() string { return TaskQuery }

// TaskOptions implements ArgsWithOptions: the queries queue, 2 retries, 2 minutes.
func (QueryArgs) TaskOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueQueries), asynq.MaxRetry(queryMaxRetry), asynq.Timeout(queryTimeout)}
}

// TaskID implements ArgsWithID: a query's task ID is its job ID.
func (a QueryArgs) TaskID() string { return a.JobID }

func (a QueryArgs) validate() error {
	switch {
	case a.Tenant == "":
		return fmt.Errorf("tenant is empty")
	case a.JobID == "":
		return fmt.Errorf("job_id is empty")
	case a.Question == "":
		return fmt.Errorf("question is empty")
	case a.TopK < 0:
		return fmt.Errorf("top_k is negative")
	}
	return nil
}

func (a QueryArgs) logAttrs() []slog.Attr {
	return []slog.Attr{slog.String("tenant", a.Tenant), slog.String("job_id", a.JobID)}
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

// NewTask is the one place an Asynq task is made: it encodes args as JSON
// under args.Kind(), with the args' own task ID (ArgsWithID) and default
// options followed by opts.
func NewTask[T Args](args T, opts ...asynq.Option) (*asynq.Task, error) {
	payload, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("jobs: encode %s args: %w", args.Kind(), err)
	}
	if wo, ok := any(args).(ArgsWithOptions); ok {
		opts = append(wo.TaskOptions(), opts...)
	}
	if wi, ok := any(args).(ArgsWithID); ok {
		opts = append([]asynq.Option{asynq.TaskID(wi.TaskID())}, opts...)
	}
	return asynq.NewTask(args.Kind(), payload, opts...), nil
}

// Register routes tasks of T's kind on mux to fn, decoding the JSON payload
// into a T first. A payload that does not decode or validate can never
// succeed, so it fails with an error wrapping asynq.SkipRetry and is archived
// at once rather than retried.
func Register[T Args](mux *asynq.ServeMux, fn func(ctx context.Context, args T) error) {
	var zero T
	kind := zero.Kind()
	mux.HandleFunc(kind, func(ctx context.Context, t *asynq.Task) error {
		// ServeMux matches by prefix; refuse "ingest:parse2" on "ingest:parse".
		if t.Type() != kind {
			return fmt.Errorf("jobs: no handler for task type %q: %w", t.Type(), asynq.SkipRetry)
		}
		args, err := decodeArgs[T](t.Payload())
		if err != nil {
			return fmt.Errorf("jobs: %s: %w: %w", kind, err, asynq.SkipRetry)
		}
		if la, ok := any(args).(logAttrser); ok {
			if info := taskInfoFrom(ctx); info != nil {
				info.attrs = la.logAttrs()
			}
		}
		return fn(ctx, args)
	})
}

// decodeArgs decodes and validates a payload. Unknown fields are accepted so
// that a newer producer does not break an older worker during a rollout.
func decodeArgs[T Args](payload []byte) (T, error) {
	var args T
	if err := json.Unmarshal(payload, &args); err != nil {
		return args, ragqueue.Errorf(ragqueue.EINVALID, "bad payload: %v", err)
	}
	if v, ok := any(args).(validator); ok {
		if err := v.validate(); err != nil {
			return args, ragqueue.Errorf(ragqueue.EINVALID, "bad payload: %v", err)
		}
	}
	return args, nil
}
