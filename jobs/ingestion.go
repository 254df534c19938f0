package jobs

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/obs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// BlobStore reads stored upload bytes, and deletes those of a document
// version nothing answers from any more. storage.FileBlobs satisfies it.
type BlobStore interface {
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Delete removes a blob; a missing blob is not an error.
	Delete(ctx context.Context, key string) error
}

// PDFParser extracts a PDF's pages, reporting pages parsed as it goes.
// *pdf.Parser (package ingest/pdf) implements it.
type PDFParser interface {
	ParsePDFProgress(ctx context.Context, f *os.File, progress func(pagesParsed int)) (ingest.Parsed, error)
}

// IngestionStore is what ingestion reads and writes in the metadata
// database besides job records (which go through the Tracker).
type IngestionStore interface {
	ragqueue.DocumentStore
	ragqueue.ChunkStore
	ragqueue.CacheStore
}

// IngestionConfig is what the ingestion pipeline works with. Store, Blobs,
// Spaces, Client and Tracker are required; the rest have defaults.
type IngestionConfig struct {
	Store IngestionStore
	Blobs BlobStore
	// PutBlob stores fetched pages' bytes; nil refuses storing pages.
	PutBlob BlobPutter
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
	Client *Client
	// Tracker records the ingest jobs' progress and outcomes.
	Tracker *Tracker
	// Metrics receives the pipeline figures; nil records them nowhere.
	Metrics *obs.Pipeline
	// Logger receives what goes wrong beside the jobs; nil discards.
	Logger *slog.Logger
}

// Defaults of IngestionConfig.
const (
	defaultEmbedBatch       = 64
	defaultEmbedParallelism = 2
	defaultBatchTexts       = 1024
)

// Ingestion is the ingestion pipeline: parse, chunk, embed, index and
// publish document versions, as tasks of their own or inside another job's
// task (a crawl, a question naming URLs, a re-index).
type Ingestion struct {
	IngestionConfig
}

// NewIngestion checks cfg and applies its defaults. It panics when a
// required field is missing, as that is a wiring bug.
func NewIngestion(cfg IngestionConfig) *Ingestion {
	switch {
	case cfg.Store == nil:
		panic("jobs: NewIngestion: Store is nil")
	case cfg.Blobs == nil:
		panic("jobs: NewIngestion: Blobs is nil")
	case cfg.Spaces == nil:
		panic("jobs: NewIngestion: Spaces is nil")
	case cfg.Client == nil || cfg.Tracker == nil:
		panic("jobs: NewIngestion: Client or Tracker is nil")
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
	return &Ingestion{IngestionConfig: cfg}
}
