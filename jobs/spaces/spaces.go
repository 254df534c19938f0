// Package spaces re-indexes: it builds the embedding space of another
// embedder beside the live one and switches searches to it.
package spaces

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Reembedder embeds every ready document's stored chunks into a space a
// re-index builds (the ingestion pipeline's EmbedAllInto), reporting the
// documents and chunks done so far.
type Reembedder interface {
	EmbedAllInto(ctx context.Context, target retrieval.Target, report func(documents, chunks int)) (documents, chunks int, err error)
}

// Config is what re-indexing works with. Spaces, Documents, Client and
// Tracker are required.
type Config struct {
	// Spaces are the embedding spaces; re-indexing needs a SpaceSet over a
	// retrieval.Spaces (not StaticSpaces).
	Spaces *retrieval.SpaceSet
	// Factory builds the embedder of a re-index's target space; nil
	// refuses re-indexing.
	Factory   retrieval.EmbedderFactory
	Documents Reembedder
	// DefaultEmbedder is the RAGQ_EMBEDDER setting a re-index without an
	// embedder builds the space of; CheckEmbedder, unless nil, refuses a
	// setting that is not one.
	DefaultEmbedder string
	CheckEmbedder   func(spec string) error
	// Client records and enqueues re-index jobs; Tracker records their
	// progress and outcomes.
	Client  *jobs.Client
	Tracker *jobs.Tracker
	// Logger receives the space switches; nil discards.
	Logger *slog.Logger
}

// Service re-indexes: it builds the embedding space of another embedder
// beside the live one and switches searches to it when complete.
type Service struct {
	cfg Config
}

// New checks cfg and returns the Service. It panics when a required field
// is missing, as that is a wiring bug.
func New(cfg Config) *Service {
	switch {
	case cfg.Spaces == nil:
		panic("spaces: New: Spaces is nil")
	case cfg.Documents == nil:
		panic("spaces: New: Documents is nil")
	case cfg.Client == nil || cfg.Tracker == nil:
		panic("spaces: New: Client or Tracker is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{cfg: cfg}
}

// Register routes the re-index task (index:reindex) on mux.
func (s *Service) Register(mux *asynq.ServeMux) {
	jobs.Register(mux, jobs.Guard(s.cfg.Logger, s.reindex, s.reindexFailed))
}

// Reindex records a re-index job of tenant (the admin asking) into the
// space of embedder (a RAGQ_EMBEDDER setting; "" is DefaultEmbedder) and
// enqueues it. The task ID names the embedder, so that one re-index into a
// space runs at a time: asking again while one is queued or running is an
// ECONFLICT error.
func (s *Service) Reindex(ctx context.Context, tenant, embedder string) (ragqueue.Job, error) {
	if embedder == "" {
		embedder = s.cfg.DefaultEmbedder
	}
	if s.cfg.CheckEmbedder != nil {
		if err := s.cfg.CheckEmbedder(embedder); err != nil {
			return ragqueue.Job{}, err
		}
	}
	if tenant == "" || embedder == "" {
		return ragqueue.Job{}, ragqueue.Errorf(ragqueue.EINVALID, "a re-index needs a tenant and an embedder")
	}
	job := jobs.QueuedJob(uuid.NewString(), tenant, jobs.KindReindex)
	if err := s.cfg.Client.EnsureJob(ctx, job); err != nil {
		return ragqueue.Job{}, err
	}
	added, err := s.cfg.Client.Enqueue(ctx, jobs.ReindexArgs{Tenant: tenant, Embedder: embedder, JobID: job.ID})
	if err == nil && added {
		return job, nil
	}
	state, msg := ragqueue.StateFailed, jobs.UnqueuedMessage
	if err == nil {
		state, msg = ragqueue.StateCanceled, "a re-index into "+embedder+" is already queued or running"
		err = ragqueue.Errorf(ragqueue.ECONFLICT, "%s", msg)
	} else {
		err = fmt.Errorf("spaces: enqueue re-index: %w: %w", jobs.ErrQueueUnavailable(), err)
	}
	s.cfg.Client.SettleUnqueued(ctx, tenant, job.ID, state, msg)
	return ragqueue.Job{}, err
}

// Converge starts the re-index into embedder's space that a process
// configured with it needs when another space is live. Every process that
// runs workers asks at start; the task ID makes it one job, so one that
// finds the re-index already queued or running leaves it be.
func (s *Service) Converge(ctx context.Context, tenant, embedder string) error {
	job, err := s.Reindex(ctx, tenant, embedder)
	switch {
	case err == nil:
		s.cfg.Logger.InfoContext(ctx, "re-index into the configured embedding space started", "embedder", embedder, "job_id", job.ID)
	case ragqueue.ErrorCode(err) == ragqueue.ECONFLICT:
	default:
		return fmt.Errorf("spaces: start re-index into %s: %w", embedder, err)
	}
	return nil
}
