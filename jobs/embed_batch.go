package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/hibiken/asynq"
)

// Cross-document embedding batches. A model provider is called per batch of
// texts, and one small document does not fill a batch: with
// Deps.BatchEmbeds, the embedding of small documents is queued into an
// Asynq group, which the server aggregates (GroupAggregator) into one
// TaskEmbedBatch task whose handler embeds every document's chunks in full
// provider batches.
const (
	// TaskEmbedBatch is the Asynq task type of an aggregated embedding batch.
	TaskEmbedBatch = "ingest:embed-batch"
	// embedGroup is the Asynq group small documents' embeddings wait in.
	embedGroup = "embed"
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

// aggregateEmbeds is the server's GroupAggregator: the embed tasks of the
// group become one batch. A task that does not decode (it cannot come from
// this code) is dropped with the others kept.
func aggregateEmbeds(logger *slog.Logger) asynq.GroupAggregator {
	return asynq.GroupAggregatorFunc(func(group string, tasks []*asynq.Task) *asynq.Task {
		batch := EmbedBatchArgs{Docs: make([]EmbedArgs, 0, len(tasks))}
		for _, t := range tasks {
			var a EmbedArgs
			if err := json.Unmarshal(t.Payload(), &a); err != nil || t.Type() != TaskEmbed || a.validate() != nil {
				logger.Error("dropping a task that is not an embed task from an embedding batch", "group", group, "task_type", t.Type())
				continue
			}
			batch.Docs = append(batch.Docs, a)
		}
		task, err := NewTask(batch)
		if err != nil {
			// An empty batch: NewTask refuses it; Asynq needs a task.
			task = asynq.NewTask(TaskEmbedBatch, []byte(`{"docs":[]}`))
		}
		return task
	})
}

// embedBatch embeds the chunks of every document of the batch with as few
// embedder calls as the embedder's batch size allows, then indexes and
// publishes each document as embed would. A document deleted or replaced
// since is skipped; any other failure fails the batch, whose retry redoes
// the (idempotent) work of every document.
func (h *handlers) embedBatch(ctx context.Context, b EmbedBatchArgs) error {
	snap, err := h.Spaces.Snapshot(ctx)
	if err != nil {
		return err
	}
	type item struct {
		a      EmbedArgs
		doc    ragqueue.Document
		chunks []ragqueue.Chunk
	}
	var items []item
	var texts []string
	seen := make(map[string]bool)
	space := snap.Embedder().Name()
	for _, a := range b.Docs {
		doc, chunks, ok, err := h.embedInputs(ctx, a)
		if err != nil {
			return err
		} else if !ok {
			continue
		}
		items = append(items, item{a, doc, chunks})
		for _, c := range chunks {
			if hash := ContentHash(space, c.Text); !seen[hash] {
				seen[hash] = true
				texts = append(texts, c.Text)
			}
		}
	}
	vectors := make(map[string][]float32, len(texts))
	for start := 0; start < len(texts); start += h.BatchTexts {
		part := texts[start:min(start+h.BatchTexts, len(texts))]
		vecs, err := h.embedTexts(ctx, snap.Embedder(), part, fmt.Sprintf("a batch of %d documents", len(items)))
		if err != nil {
			return err
		}
		for i, t := range part {
			vectors[ContentHash(space, t)] = vecs[i]
		}
	}
	var errs []error
	for _, it := range items {
		if err := h.embedVersion(ctx, it.a, it.doc, it.chunks, ingestRun{vectors: vectors}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// embedBatchFailed records a failed batch on each of its documents.
func (h *handlers) embedBatchFailed(ctx context.Context, b EmbedBatchArgs, err error) error {
	for _, a := range b.Docs {
		_ = h.embedFailed(ctx, a, err)
	}
	return err
}
