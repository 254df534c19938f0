// Package crawls runs recorded crawls: it fetches the pages, stores each as
// a document (deduplicated by URL) and ingests it, and schedules the runs of
// refreshing crawls.
package crawls

import (
	"log/slog"
	"net/http"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/documents"
)

// Config is what crawling works with. Crawls, Documents, Client and
// Tracker are required.
type Config struct {
	Crawls ragqueue.CrawlStore
	// Documents stores and ingests the pages fetched.
	Documents *documents.Service
	// Fetcher fetches pages through WebClient (the one SSRF-guarded
	// client); nil refuses crawls.
	Fetcher   *web.Fetcher
	WebClient *http.Client
	// Client records and enqueues crawl runs; Tracker records their
	// progress and outcomes.
	Client  *jobs.Client
	Tracker *jobs.Tracker
	// Limits cap what a crawl request may ask for (Create).
	Limits Limits
	// Signed says whether job notifications can be signed (a webhook
	// secret is set): without it Create refuses callbacks.
	Signed bool
	// Logger receives what goes wrong beside the jobs; nil discards.
	Logger *slog.Logger
}

// Service checks, records and enqueues crawls (the API) and runs them
// (the workers).
type Service struct {
	cfg Config
}

// New checks cfg and returns the Service. It panics when a required field
// is missing, as that is a wiring bug.
func New(cfg Config) *Service {
	switch {
	case cfg.Crawls == nil:
		panic("crawls: New: Crawls is nil")
	case cfg.Documents == nil:
		panic("crawls: New: Documents is nil")
	case cfg.Client == nil || cfg.Tracker == nil:
		panic("crawls: New: Client or Tracker is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}
}

// Register routes the crawl task (crawl:run) on mux.
func (s *Service) Register(mux *asynq.ServeMux) {
	jobs.Register(mux, jobs.Guard(s.cfg.Logger, s.crawl, s.crawlFailed))
}
