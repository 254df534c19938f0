package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"runtime/debug"
	"time"

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
	Spaces   *SpaceSet
	Index    retrieval.Index
	Embedder retrieval.Embedder
	// EmbedderFactory builds the embedder of a re-index's target space;
	// nil refuses re-indexing.
	EmbedderFactory EmbedderFactory
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
// *pdf.Parser (package ingest/pdf) implements it.
type PDFParser interface {
	ParsePDFProgress(ctx context.Context, f *os.File, progress func(pagesParsed int)) (ingest.Parsed, error)
}

// Defaults for Deps and queries.
const (
	defaultEmbedBatch       = 64
	defaultEmbedParallelism = 2
	defaultTopK             = 5
	// progressEvery throttles progress writes during embedding.
	progressEvery = 250 * time.Millisecond
	// settleTimeout bounds the state writes made after a failure, which run
	// even when the task's own context has ended.
	settleTimeout = 10 * time.Second
)

// handlers holds Deps with defaults applied; its methods are the task handlers.
type handlers struct {
	Deps
	// client enqueues the ingest jobs and refresh runs a crawl starts.
	client *Client
}

// NewMux returns a ServeMux with every ragqueue task handler registered
// behind the logging and panic-recovery middleware. It panics when a required
// dependency is missing, as that is a wiring bug.
func NewMux(d Deps) *asynq.ServeMux {
	h := newHandlers(d)
	mux := asynq.NewServeMux()
	mux.Use(logTasks(h.Logger))
	Register(mux, guard(h, h.parse, h.parseFailed))
	Register(mux, guard(h, h.embed, h.embedFailed))
	Register(mux, guard(h, h.query, h.queryFailed))
	Register(mux, guard(h, h.crawl, h.crawlFailed))
	Register(mux, guard(h, h.reindex, h.reindexFailed))
	Register(mux, guard(h, h.embedBatch, h.embedBatchFailed))
	Register(mux, guard(h, h.reconcileTask, h.reconcileFailed))
	Register(mux, guard(h, h.deliverWebhook, h.webhookFailed))
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
		d.Spaces = StaticSpaces(d.Embedder, d.Index)
	}
	if d.BatchTexts <= 0 {
		d.BatchTexts = 1024
	}
	if d.Metrics == nil {
		d.Metrics = obs.NewPipeline(nil) // recorded, not exported
	}
	d.Store = followedStore{Store: d.Store, enq: d.Enqueuer, events: d.Events, logger: d.Logger}
	return &handlers{Deps: d, client: NewClient(d.Enqueuer, d.Store, d.Logger)}
}

// followedStore is the handlers' Store: every job update also reaches the
// job's followers, so that a handler recording progress or an outcome need
// not know about them. A job that ends notifies its callback URL
// (webhook.go); every update is published as events (events.go).
type followedStore struct {
	Store
	enq    Enqueuer
	events EventPublisher
	logger *slog.Logger
}

func (s followedStore) UpdateJob(ctx context.Context, tenant, id string, u ragqueue.JobUpdate) error {
	if err := s.Store.UpdateJob(ctx, tenant, id, u); err != nil {
		return err
	}
	notifyWebhook(ctx, s.Store, s.enq, s.logger, tenant, id, u)
	PublishUpdate(ctx, s.events, s.logger, tenant, id, u)
	return nil
}

// guard runs fn, turns a panic into an error, and hands any error to onFail,
// which records it on the job (and document) and returns what Asynq should see.
func guard[T Args](h *handlers, fn func(context.Context, T) error, onFail func(context.Context, T, error) error) func(context.Context, T) error {
	return func(ctx context.Context, args T) (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("jobs: %s panicked: %v", args.Kind(), r)
				h.Logger.ErrorContext(ctx, "handler panicked", "task_type", args.Kind(), "panic", r, "stack", string(debug.Stack()))
			}
			if err != nil {
				err = onFail(ctx, args, err)
			}
		}()
		return fn(ctx, args)
	}
}

// willRetry reports whether Asynq will run the task again after err.
// Outside an Asynq server (no retry data in ctx) nothing retries.
func willRetry(ctx context.Context, err error) bool {
	if errors.Is(err, asynq.SkipRetry) {
		return false
	}
	n, ok := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok && ok2 && n < maxRetry
}

// permanent marks err as one that retrying cannot fix.
func permanent(err error) error {
	return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
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

// failureMessage is what a job or document records about err: the client
// message of a ragqueue error, otherwise the error text, which operators need
// to see why an embedder or generator failed.
func failureMessage(err error) string {
	var e *ragqueue.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}

// settleContext is for state writes after a failure: it keeps ctx's values
// (the Asynq retry data) but not its cancellation, so that a timed-out task
// still records why it stopped.
func settleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}

// setJob updates a job, logging rather than failing: the job record is a
// view for clients, the work itself already succeeded or failed.
func (h *handlers) setJob(ctx context.Context, tenant, jobID string, u ragqueue.JobUpdate) {
	if err := h.Store.UpdateJob(ctx, tenant, jobID, u); err != nil {
		h.Logger.WarnContext(ctx, "update job", "tenant", tenant, "job_id", jobID, "error", err)
	}
}

// jobSucceeded records a job's successful outcome u (its State is set).
// Unlike progress, the outcome must be recorded: a failure is returned, for
// the task to be retried. A job record that is gone (pruned) cannot be
// helped by retrying: that is not an error.
func (h *handlers) jobSucceeded(ctx context.Context, tenant, jobID string, u ragqueue.JobUpdate) error {
	u.State = statePtr(ragqueue.StateSucceeded)
	if err := h.Store.UpdateJob(ctx, tenant, jobID, u); err != nil && !ragqueue.IsNotFound(err) {
		return fmt.Errorf("jobs: record outcome of job %s: %w", jobID, err)
	}
	return nil
}

// jobFailed records a failed attempt on the job: retrying when Asynq will run
// the task again, failed otherwise. It reports whether the failure is final.
func (h *handlers) jobFailed(ctx context.Context, tenant, jobID string, err error) (final bool) {
	msg := failureMessage(err)
	state := ragqueue.StateFailed
	if willRetry(ctx, err) {
		state = ragqueue.StateRetrying
	}
	h.setJob(ctx, tenant, jobID, ragqueue.JobUpdate{State: &state, Error: &msg})
	return state == ragqueue.StateFailed
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
	ctx, cancel := settleContext(ctx)
	defer cancel()
	var rej rejection
	if errors.As(err, &rej) {
		msg := ragqueue.ErrorMessage(rej.err)
		h.docFailed(ctx, tenant, docID, version, ragqueue.StatusRejected, msg)
		failed := ragqueue.StateFailed
		h.setJob(ctx, tenant, jobID, ragqueue.JobUpdate{State: &failed, Error: &msg})
		return fmt.Errorf("jobs: reject document %s: %w: %w", docID, err, asynq.SkipRetry)
	}
	// The document first: it is the truth the reconciler works from.
	if !willRetry(ctx, err) {
		h.docFailed(ctx, tenant, docID, version, ragqueue.StatusFailed, failureMessage(err))
	}
	h.jobFailed(ctx, tenant, jobID, err)
	return err
}

func (h *handlers) parseFailed(ctx context.Context, a ParseArgs, err error) error {
	return h.ingestFailed(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, err)
}

func (h *handlers) embedFailed(ctx context.Context, a EmbedArgs, err error) error {
	return h.ingestFailed(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, err)
}

func (h *handlers) queryFailed(ctx context.Context, a QueryArgs, err error) error {
	ctx, cancel := settleContext(ctx)
	defer cancel()
	if h.queryCanceled(ctx, a) {
		return permanent(err) // its client went away: the record says so already
	}
	h.jobFailed(ctx, a.Tenant, a.JobID, err)
	return err
}

// marshal encodes a progress or result value; these are plain structs, so an
// error is a bug.
func marshal(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("jobs: marshal %T: %v", v, err))
	}
	return b
}

// statePtr returns a pointer to s, for JobUpdate.
func statePtr(s ragqueue.State) *ragqueue.State { return &s }

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
