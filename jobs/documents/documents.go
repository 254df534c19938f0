// Package documents is the ingestion pipeline (parse, chunk, embed, index
// and publish document versions) and the document use cases that start it.
package documents

import (
	"context"
	"io"
	"log/slog"

	"github.com/hibiken/asynq"
	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/obs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// BlobStore keeps the bytes of uploads and fetched pages: it stores them,
// reads them for parsing, and deletes those of a document version nothing
// answers from any more. storage.FileBlobs satisfies it.
type BlobStore interface {
	// Put copies r into a new blob, at most maxBytes (0: no limit; over it
	// nothing is stored and the error is ETOOLARGE).
	Put(ctx context.Context, r io.Reader, maxBytes int64) (ragqueue.BlobInfo, error)
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes a blob; a missing blob is not an error.
	Delete(ctx context.Context, key string) error
}

// Store is what ingestion reads and writes in the metadata
// database besides job records (which go through the Tracker).
type Store interface {
	ragqueue.DocumentStore
	ragqueue.ChunkStore
	ragqueue.CacheStore
}

// Config is what the ingestion pipeline works with. Store, Blobs,
// Spaces, Client and Tracker are required; the rest have defaults.
type Config struct {
	Store Store
	Blobs BlobStore
	// Spaces are the embedding spaces: the live one, and any a re-index
	// builds, are written to.
	Spaces  *retrieval.SpaceSet
	Chunker ingest.Chunker
	// PDF parses PDFs in sandboxed child processes; nil refuses PDFs.
	PDF PDFParser
	// MaxParseBytes is passed to ingest.Parse as its size limit.
	MaxParseBytes int64
	// EmbedBatch is the number of chunks per Embed call; default 64.
	EmbedBatch int
	// EmbedParallelism is the number of concurrent Embed calls inside one
	// embed task; default 2.
	EmbedParallelism int
	// InlineEmbedChunks: a document with at most this many chunks is
	// embedded by its parse task instead of a separate embed task, saving a
	// queue round trip per small document. 0 means EmbedBatch (one batch);
	// negative means always use a separate task.
	InlineEmbedChunks int
	// BatchEmbeds sends small documents' embeddings through an Asynq group
	// that the server aggregates into cross-document batches (for model
	// providers, whose calls cost per batch); off, they are embedded by
	// their parse task. BatchTexts caps the texts of one Embed call in a
	// batch; default 1024 (the embedder splits them further to its size).
	BatchEmbeds bool
	BatchTexts  int
	// Client enqueues follow-up tasks (parse enqueues embed) and hands
	// crawled pages to the ingest queue.
	Client *jobs.Client
	// Tracker records the ingest jobs' progress and outcomes.
	Tracker *jobs.Tracker
	// Metrics receives the pipeline figures; nil records them nowhere.
	Metrics *obs.Pipeline
	// Logger receives what goes wrong beside the jobs; nil discards.
	Logger *slog.Logger
}

// Defaults of Config.
const (
	defaultEmbedBatch       = 64
	defaultEmbedParallelism = 2
	defaultBatchTexts       = 1024
)

// Service is the ingestion pipeline: parse, chunk, embed, index and
// publish document versions, as tasks of their own or inside another job's
// task (a crawl, a question naming URLs, a re-index); and the document use
// cases that start it.
type Service struct {
	cfg Config
}

// New checks cfg and applies its defaults. It panics when a
// required field is missing, as that is a wiring bug.
func New(cfg Config) *Service {
	switch {
	case cfg.Store == nil:
		panic("documents: New: Store is nil")
	case cfg.Blobs == nil:
		panic("documents: New: Blobs is nil")
	case cfg.Spaces == nil:
		panic("documents: New: Spaces is nil")
	case cfg.Client == nil || cfg.Tracker == nil:
		panic("documents: New: Client or Tracker is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.EmbedBatch <= 0 {
		cfg.EmbedBatch = defaultEmbedBatch
	}
	if cfg.EmbedParallelism <= 0 {
		cfg.EmbedParallelism = defaultEmbedParallelism
	}
	if cfg.InlineEmbedChunks == 0 {
		cfg.InlineEmbedChunks = cfg.EmbedBatch
	}
	if cfg.BatchTexts <= 0 {
		cfg.BatchTexts = defaultBatchTexts
	}
	if cfg.Metrics == nil {
		cfg.Metrics = obs.NewPipeline(nil) // recorded, not exported
	}
	return &Service{cfg: cfg}
}

// Register routes the ingestion tasks (ingest:parse, ingest:embed and
// ingest:embed-batch) on mux.
func (s *Service) Register(mux *asynq.ServeMux) {
	jobs.Register(mux, jobs.Guard(s.cfg.Logger, s.parse, s.parseFailed))
	jobs.Register(mux, jobs.Guard(s.cfg.Logger, s.embed, s.embedFailed))
	jobs.Register(mux, jobs.Guard(s.cfg.Logger, s.embedBatch, s.embedBatchFailed))
}
