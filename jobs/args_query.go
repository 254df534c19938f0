package jobs

import (
	"fmt"
	"log/slog"

	"github.com/hibiken/asynq"
)

// TaskQuery is the Asynq task type of a question (job kind KindQuery).
const TaskQuery = "query:answer"

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
