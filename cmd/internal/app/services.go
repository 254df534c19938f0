package app

import (
	"github.com/hibiken/asynq"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/crawls"
	"github.com/ragqueue/ragqueue/jobs/documents"
	"github.com/ragqueue/ragqueue/jobs/queries"
	"github.com/ragqueue/ragqueue/jobs/spaces"
)

// Services are built from the App's parts when asked for, not by Open, so
// that what a test changes on the App after Open (a generator, an
// embedding space) reaches them.

// workerMux is the worker's mux: every task handler, the webhook delivery
// and the periodic reconciliation running passes.
func (a *App) workerMux(passes []jobs.ReconcilePass) *asynq.ServeMux {
	mux := jobs.NewServeMux(a.Logger)
	a.Documents().Register(mux)
	a.Queries().Register(mux)
	a.Crawler().Register(mux)
	a.Reindexer().Register(mux)
	jobs.RegisterWebhooks(mux, jobs.WebhookConfig{Jobs: a.Store, Client: a.WebClient, Secret: a.Config.WebhookSecret, Logger: a.Logger})
	jobs.RegisterReconcile(mux, a.Logger, passes...)
	return mux
}

// tracker records job progress for the task handlers, publishing events.
func (a *App) tracker() *jobs.Tracker {
	return jobs.NewTracker(a.Store, a.Queue, a.Events, a.Logger)
}

// Documents is the document use case: the ingestion pipeline and what
// starts it.
func (a *App) Documents() *documents.Service {
	return documents.New(documents.Config{
		Store: a.Store, Blobs: a.Blobs, Spaces: a.Spaces, Chunker: a.Chunker, PDF: a.PDF,
		MaxParseBytes: a.Config.MaxUploadBytes,
		// The configured embedder bills per call: small documents share calls.
		BatchEmbeds: a.batchEmbeds,
		Client:      a.Jobs, Tracker: a.tracker(), Metrics: a.Pipeline, Logger: a.Logger,
	})
}

// Queries is the question use case: checking, caching, enqueueing and
// canceling questions and searching (the API, cmd/eval), and answering
// them (the workers).
func (a *App) Queries() *queries.Service {
	cfg := queries.Config{
		Conversations: a.Store, Spaces: a.Spaces, Generator: a.Generator, Documents: a.Documents(),
		Fetcher: a.Fetcher, MaxURLs: a.Config.QueryMaxURLs, Cache: a.Cache,
		Client: a.Jobs, Tracker: a.tracker(), Canceler: a.Canceler, Signed: len(a.Config.WebhookSecret) > 0,
		Metrics: a.Pipeline, Logger: a.Logger,
	}
	if a.TokenBudget != nil {
		cfg.TokenBudget = a.TokenBudget // a nil *redis.TokenBudget would not be a nil TokenBudget
	}
	return queries.New(cfg)
}

// Crawler is the crawl use case: enqueueing crawls (the API), running
// them and scheduling their refresh runs (the workers).
func (a *App) Crawler() *crawls.Service {
	return crawls.New(crawls.Config{
		Crawls: a.Store, Documents: a.Documents(), Fetcher: a.Fetcher, WebClient: a.WebClient,
		Client: a.Jobs, Tracker: a.tracker(), Logger: a.Logger,
		Limits: crawls.Limits{MaxPages: a.Config.CrawlMaxPages, MaxDepth: a.Config.CrawlMaxDepth, MinRefresh: a.Config.CrawlMinRefresh},
		Signed: len(a.Config.WebhookSecret) > 0,
	})
}

// Reindexer is the re-indexing use case: POST /v1/admin/reindex, and the
// re-index the workers start when RAGQ_EMBEDDER names a new space.
func (a *App) Reindexer() *spaces.Service {
	return spaces.New(spaces.Config{
		Spaces: a.Spaces, Factory: a.newEmbedder, Documents: a.Documents(),
		DefaultEmbedder: a.Config.Embedder, CheckEmbedder: CheckEmbedder,
		Client: a.Jobs, Tracker: a.tracker(), Logger: a.Logger,
	})
}
