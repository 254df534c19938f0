// Package queries answers questions from a tenant's documents: it enqueues
// them and runs their tasks (conversation rewriting, the answer cache, named
// pages, the token budget, streamed answers).
package queries

import (
	"context"
	"log/slog"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/documents"
	"github.com/ragqueue/ragqueue/obs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// defaultTopK is how many passages a question gets when it asks for none.
const defaultTopK = 5

// defaultMaxURLs caps the URLs one question fetches when Config says nothing.
const defaultMaxURLs = 3

// Config is what answering questions works with. Conversations, Spaces,
// Generator, Documents and Tracker are required; Client with Enqueue.
type Config struct {
	// Conversations keeps the turns of questions asked in a conversation.
	Conversations ragqueue.ConversationStore
	// Spaces are the embedding spaces; the live one answers.
	Spaces    *retrieval.SpaceSet
	Generator retrieval.Generator
	// Documents stores and ingests the pages named in a question.
	Documents *documents.Service
	// Fetcher fetches the pages named in a question; nil refuses them.
	Fetcher *web.Fetcher
	// MaxURLs caps the URLs one question names (RAGQ_QUERY_MAX_URLS as
	// configured): Check refuses more, and refuses any when it is 0; the
	// task fetches at most MaxURLs, 3 when it is 0.
	MaxURLs int
	// Cache answers repeated questions; nil turns the answer cache off.
	Cache *AnswerCache
	// TokenBudget caps each tenant's LLM tokens per day; nil: no cap.
	TokenBudget TokenBudget
	// Client records and enqueues query jobs (Enqueue); Tracker records
	// their progress and outcomes, and publishes the answer's tokens.
	Client  *jobs.Client
	Tracker *jobs.Tracker
	// Canceler cancels the query of a streaming client that went away
	// (Cancel); nil: Cancel does nothing.
	Canceler *jobs.Canceler
	// Signed says a webhook secret signs notifications: only then does
	// Check accept a callback URL.
	Signed bool
	// Metrics receives the generation figures; nil records them nowhere.
	Metrics *obs.Pipeline
	// Logger receives what goes wrong beside the jobs; nil discards.
	Logger *slog.Logger
}

// Service answers questions: it checks them, answers them from the cache
// or enqueues them, runs their tasks, and searches.
type Service struct {
	cfg     Config
	maxURLs int // Config.MaxURLs as configured, for Check
}

// New checks cfg and applies its defaults. It panics when a required field
// is missing, as that is a wiring bug.
func New(cfg Config) *Service {
	switch {
	case cfg.Conversations == nil:
		panic("queries: New: Conversations is nil")
	case cfg.Spaces == nil:
		panic("queries: New: Spaces is nil")
	case cfg.Generator == nil:
		panic("queries: New: Generator is nil")
	case cfg.Documents == nil:
		panic("queries: New: Documents is nil")
	case cfg.Client == nil || cfg.Tracker == nil:
		panic("queries: New: Client or Tracker is nil")
	}
	maxURLs := cfg.MaxURLs
	if cfg.MaxURLs <= 0 {
		cfg.MaxURLs = defaultMaxURLs
	}
	if cfg.Metrics == nil {
		cfg.Metrics = obs.NewPipeline(nil) // recorded, not exported
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg, maxURLs: maxURLs}
}

// Register routes the query task (query:answer) on mux.
func (s *Service) Register(mux *asynq.ServeMux) {
	jobs.Register(mux, jobs.Guard(s.cfg.Logger, s.query, s.queryFailed))
}

// queryFailed records a failed attempt on the query job; a job whose
// client went away (canceled) is not retried.
func (s *Service) queryFailed(ctx context.Context, a jobs.QueryArgs, err error) error {
	ctx, cancel := jobs.SettleContext(ctx)
	defer cancel()
	if s.queryCanceled(ctx, a) {
		return jobs.Permanent(err) // its client went away: the record says so already
	}
	s.cfg.Tracker.Failed(ctx, a.Tenant, a.JobID, err)
	return err
}

// TokenBudget is a per-tenant daily budget of LLM tokens (storage/redis.TokenBudget).
type TokenBudget interface {
	// Allow fails with a ragqueue ERATELIMIT error once tenant's budget for
	// the day is spent.
	Allow(ctx context.Context, tenant string) error
	// Add records n tokens used by tenant.
	Add(ctx context.Context, tenant string, n int) (int64, error)
}
