package jobs

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Task types of ingestion: the Asynq type names (Args kinds) of its tasks,
// defined here and nowhere else. Not to be confused with the job kinds
// clients see (KindIngest): one ingest job runs as a parse and an embed task.
const (
	TaskParse = "ingest:parse"
	TaskEmbed = "ingest:embed"
)

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

// Cross-document embedding batches. A model provider is called per batch of
// texts, and one small document does not fill a batch: with
// Deps.BatchEmbeds, the embedding of small documents is queued into an
// Asynq group, which the server aggregates (GroupAggregator) into one
// TaskEmbedBatch task whose handler embeds every document's chunks in full
// provider batches.
const (
	// TaskEmbedBatch is the Asynq task type of an aggregated embedding batch.
	TaskEmbedBatch = "ingest:embed-batch"
	// EmbedGroup is the Asynq group small documents' embeddings wait in.
	EmbedGroup = "embed"
	// DefaultEmbedGroupMaxSize is how many documents one batch takes at most.
	DefaultEmbedGroupMaxSize = 256
	// DefaultEmbedGroupGrace is how long a batch waits for another document
	// (Asynq's minimum); DefaultEmbedGroupMaxDelay is the longest it waits.
	DefaultEmbedGroupGrace    = time.Second
	DefaultEmbedGroupMaxDelay = 3 * time.Second
)

// EmbedBatchArgs is an aggregated batch: the embeddings of several
// documents' versions, done together.
type EmbedBatchArgs struct {
	Docs []EmbedArgs `json:"docs"`
}

// Kind implements Args.
func (EmbedBatchArgs) Kind() string { return TaskEmbedBatch }

// TaskOptions implements ArgsWithOptions: as one embed task.
func (EmbedBatchArgs) TaskOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueIngest), asynq.MaxRetry(ingestMaxRetry), asynq.Timeout(embedTimeout)}
}

func (a EmbedBatchArgs) validate() error {
	if len(a.Docs) == 0 {
		return errors.New("docs is empty")
	}
	for i, d := range a.Docs {
		if err := d.validate(); err != nil {
			return fmt.Errorf("docs[%d]: %w", i, err)
		}
	}
	return nil
}

func (a EmbedBatchArgs) logAttrs() []slog.Attr { return []slog.Attr{slog.Int("docs", len(a.Docs))} }
