package jobs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/web"
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

// Deps is what the task handlers work with. Store, Blobs, Generator,
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
	// EmbedderFactory builds the embedder of a re-index's target space;
	// nil refuses re-indexing.
	EmbedderFactory retrieval.EmbedderFactory
	Generator       retrieval.Generator
	Chunker         ingest.Chunker
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
	// Fetcher fetches pages for crawls and questions naming URLs, through
	// WebClient (the one SSRF-guarded client); nil refuses them.
	Fetcher   *web.Fetcher
	WebClient *http.Client
	// PutBlob stores fetched pages' bytes; required with Fetcher.
	PutBlob BlobPutter
	// QueryMaxURLs caps the URLs one question fetches; default 3.
	QueryMaxURLs int
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
	// Cache answers repeated questions; nil turns the answer cache off.
	Cache *AnswerCache
	// TokenBudget caps each tenant's LLM tokens per day; nil: no cap.
	TokenBudget TokenBudget
	// Events receives each job's events (progress, tokens, outcome) for
	// SSE and WebSocket clients; nil publishes none.
	Events EventPublisher
}

// PDFParser extracts a PDF's pages, reporting pages parsed as it goes.
// *ingest.PDFParser implements it.
type PDFParser interface {
	ParsePDFProgress(ctx context.Context, f *os.File, progress func(pagesParsed int)) (ingest.Parsed, error)
}

// Defaults for Deps and queries.
const (
	defaultEmbedBatch       = 64
	defaultEmbedParallelism = 2
	defaultTopK             = 5
)

// handlers holds Deps with defaults applied; its methods are the task handlers.
type handlers struct {
	Deps
	// client enqueues the ingest jobs and refresh runs a crawl starts.
	client *Client
	// tracker records job progress and outcomes for the jobs' followers.
	tracker *Tracker
}

// NewMux returns a ServeMux with every ragqueue task handler registered
// behind the logging and panic-recovery middleware. It panics when a required
// dependency is missing, as that is a wiring bug.
func NewMux(d Deps) *asynq.ServeMux {
	h := newHandlers(d)
	mux := NewServeMux(h.Logger)
	Register(mux, Guard(h.Logger, h.parse, h.parseFailed))
	Register(mux, Guard(h.Logger, h.embed, h.embedFailed))
	Register(mux, Guard(h.Logger, h.query, h.queryFailed))
	Register(mux, Guard(h.Logger, h.crawl, h.crawlFailed))
	Register(mux, Guard(h.Logger, h.reindex, h.reindexFailed))
	Register(mux, Guard(h.Logger, h.embedBatch, h.embedBatchFailed))
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
	case d.Generator == nil:
		panic("jobs: NewMux: Deps.Generator is nil")
	case d.Enqueuer == nil:
		panic("jobs: NewMux: Deps.Enqueuer is nil")
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.EmbedBatch <= 0 {
		d.EmbedBatch = defaultEmbedBatch
	}
	if d.EmbedParallelism <= 0 {
		d.EmbedParallelism = defaultEmbedParallelism
	}
	if d.QueryMaxURLs <= 0 {
		d.QueryMaxURLs = 3
	}
	if d.InlineEmbedChunks == 0 {
		d.InlineEmbedChunks = d.EmbedBatch
	}
	if d.Spaces == nil {
		d.Spaces = retrieval.StaticSpaces(d.Embedder, d.Index)
	}
	if d.BatchTexts <= 0 {
		d.BatchTexts = 1024
	}
	if d.Metrics == nil {
		d.Metrics = obs.NewPipeline(nil) // recorded, not exported
	}
	return &handlers{Deps: d, client: NewClient(d.Enqueuer, d.Store, d.Logger),
		tracker: NewTracker(d.Store, d.Enqueuer, d.Events, d.Logger)}
}

// rejection is an input error: the document itself is unusable.
type rejection struct{ err error }

func (r rejection) Error() string { return r.err.Error() }
func (r rejection) Unwrap() error { return r.err }

// isInputError reports whether err says the input is unusable, as opposed to
// the machinery having failed.
func isInputError(err error) bool {
	switch ragqueue.ErrorCode(err) {
	case ragqueue.EINVALID, ragqueue.EUNSUPPORTED, ragqueue.ETOOLARGE:
		return true
	}
	return false
}

// docFailed records a final failure on a document version; a document that
// was deleted or replaced meanwhile is left alone.
func (h *handlers) docFailed(ctx context.Context, tenant, docID string, version int, status ragqueue.Status, msg string) {
	err := h.Store.SetDocumentStatus(ctx, tenant, docID, version, status, msg)
	if err != nil && !ragqueue.IsNotFound(err) {
		h.Logger.WarnContext(ctx, "set document status", "tenant", tenant, "doc_id", docID, "status", status, "error", err)
	}
}

// ingestFailed settles a failed parse or embed attempt. A rejection marks the
// document rejected and is never retried; any other error marks the job
// retrying, or on the last attempt fails both document and job.
func (h *handlers) ingestFailed(ctx context.Context, tenant, docID, jobID string, version int, err error) error {
	ctx, cancel := SettleContext(ctx)
	defer cancel()
	var rej rejection
	if errors.As(err, &rej) {
		msg := ragqueue.ErrorMessage(rej.err)
		h.docFailed(ctx, tenant, docID, version, ragqueue.StatusRejected, msg)
		failed := ragqueue.StateFailed
		h.tracker.Set(ctx, tenant, jobID, ragqueue.JobUpdate{State: &failed, Error: &msg})
		return fmt.Errorf("jobs: reject document %s: %w: %w", docID, err, asynq.SkipRetry)
	}
	// The document first: it is the truth the reconciler works from.
	if !WillRetry(ctx, err) {
		h.docFailed(ctx, tenant, docID, version, ragqueue.StatusFailed, FailureMessage(err))
	}
	h.tracker.Failed(ctx, tenant, jobID, err)
	return err
}

func (h *handlers) parseFailed(ctx context.Context, a ParseArgs, err error) error {
	return h.ingestFailed(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, err)
}

func (h *handlers) embedFailed(ctx context.Context, a EmbedArgs, err error) error {
	return h.ingestFailed(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, err)
}

func (h *handlers) queryFailed(ctx context.Context, a QueryArgs, err error) error {
	ctx, cancel := SettleContext(ctx)
	defer cancel()
	if h.queryCanceled(ctx, a) {
		return Permanent(err) // its client went away: the record says so already
	}
	h.tracker.Failed(ctx, a.Tenant, a.JobID, err)
	return err
}

// countFetch records one page fetch's outcome in the metrics: fetched, or
// blocked (robots.txt, the SSRF guard, the crawl's scope); other failures
// count as neither.
func (h *handlers) countFetch(err error) {
	switch {
	case err == nil:
		h.Metrics.CrawlPagesFetched.Inc()
	case errors.Is(err, web.ErrBlocked):
		h.Metrics.CrawlPagesBlocked.Inc()
	}
}

// TokenBudget is a per-tenant daily budget of LLM tokens (limit.TokenBudget).
type TokenBudget interface {
	// Allow fails with a ragqueue ERATELIMIT error once tenant's budget for
	// the day is spent.
	Allow(ctx context.Context, tenant string) error
	// Add records n tokens used by tenant.
	Add(ctx context.Context, tenant string, n int) (int64, error)
}
