package jobs

import (
	"log/slog"
	"net/http"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/obs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Deps is what the task handlers work with. Store, Blobs,
// Enqueuer and either Spaces or both Index and Embedder are required; the
// rest have defaults.
type Deps struct {
	Store Store
	Blobs BlobStore
	// Spaces are the embedding spaces: the live one answers searches, all
	// are written to. Without it, Index and Embedder are the one space.
	Spaces   *retrieval.SpaceSet
	Index    retrieval.Index
	Embedder retrieval.Embedder
	Chunker  ingest.Chunker
	// Enqueuer receives follow-up tasks (parse enqueues embed).
	Enqueuer Enqueuer
	// Logger receives one line per task attempt; nil discards.
	Logger *slog.Logger
	// MaxParseBytes is passed to ingest.Parse as its size limit.
	MaxParseBytes int64
	// EmbedBatch is the number of chunks per Embed call; default 64.
	EmbedBatch int
	// EmbedParallelism is the number of concurrent Embed calls inside one
	// embed task; default 2.
	EmbedParallelism int
	// PDF parses PDFs in sandboxed child processes; nil refuses PDFs.
	PDF PDFParser
	// InlineEmbedChunks: a document with at most this many chunks is
	// embedded by its parse task instead of a separate embed task, saving a
	// queue round trip per small document. 0 means EmbedBatch (one batch);
	// negative means always use a separate task.
	InlineEmbedChunks int
	// WebClient is the one SSRF-guarded client; webhooks are sent
	// through it.
	WebClient *http.Client
	// PutBlob stores fetched pages' bytes.
	PutBlob BlobPutter
	// Metrics receives the pipeline figures; nil records them nowhere.
	Metrics *obs.Pipeline
	// BatchEmbeds sends small documents' embeddings through an Asynq group
	// that the server aggregates into cross-document batches (for model
	// providers, whose calls cost per batch); off, they are embedded by
	// their parse task. BatchTexts caps the texts of one Embed call in a
	// batch; default 1024 (the embedder splits them further to its size).
	BatchEmbeds bool
	BatchTexts  int
	// WebhookSecret signs webhook deliveries (RAGQ_WEBHOOK_SECRET); they
	// are sent through WebClient.
	WebhookSecret []byte
	// Events receives each job's events (progress, tokens, outcome) for
	// SSE and WebSocket clients; nil publishes none.
	Events EventPublisher
}

// handlers holds Deps with defaults applied; its methods are the task handlers.
type handlers struct {
	Deps
	// tracker records job progress and outcomes for the jobs' followers.
	tracker *Tracker
	// ing is the ingestion pipeline, which crawls, questions naming URLs
	// and re-indexes run inside their own tasks.
	ing *Ingestion
}

// NewMux returns a ServeMux with every ragqueue task handler registered
// behind the logging and panic-recovery middleware. It panics when a required
// dependency is missing, as that is a wiring bug.
func NewMux(d Deps) *asynq.ServeMux {
	h := newHandlers(d)
	mux := NewServeMux(h.Logger)
	Register(mux, Guard(h.Logger, h.ing.parse, h.ing.parseFailed))
	Register(mux, Guard(h.Logger, h.ing.embed, h.ing.embedFailed))
	Register(mux, Guard(h.Logger, h.ing.embedBatch, h.ing.embedBatchFailed))
	Register(mux, Guard(h.Logger, h.deliverWebhook, h.webhookFailed))
	return mux
}

// newHandlers checks d (see NewMux) and applies its defaults.
func newHandlers(d Deps) *handlers {
	switch {
	case d.Store == nil:
		panic("jobs: NewMux: Deps.Store is nil")
	case d.Blobs == nil:
		panic("jobs: NewMux: Deps.Blobs is nil")
	case d.Spaces == nil && (d.Index == nil || d.Embedder == nil):
		panic("jobs: NewMux: Deps.Spaces, or Deps.Index and Deps.Embedder, are nil")
	case d.Enqueuer == nil:
		panic("jobs: NewMux: Deps.Enqueuer is nil")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Spaces == nil {
		d.Spaces = retrieval.StaticSpaces(d.Embedder, d.Index)
	}
	if d.Metrics == nil {
		d.Metrics = obs.NewPipeline(nil) // recorded, not exported
	}
	client := NewClient(d.Enqueuer, d.Store, d.Logger)
	tracker := NewTracker(d.Store, d.Enqueuer, d.Events, d.Logger)
	ing := NewIngestion(IngestionConfig{
		Store: d.Store, Blobs: d.Blobs, PutBlob: d.PutBlob, Spaces: d.Spaces, Chunker: d.Chunker, PDF: d.PDF,
		MaxParseBytes: d.MaxParseBytes, EmbedBatch: d.EmbedBatch, EmbedParallelism: d.EmbedParallelism,
		InlineEmbedChunks: d.InlineEmbedChunks, BatchEmbeds: d.BatchEmbeds, BatchTexts: d.BatchTexts,
		Client: client, Tracker: tracker, Metrics: d.Metrics, Logger: d.Logger,
	})
	return &handlers{Deps: d, tracker: tracker, ing: ing}
}
