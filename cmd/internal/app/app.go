package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/pdf"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/obs"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
	"github.com/ragqueue/ragqueue/storage/postgres"
	"github.com/ragqueue/ragqueue/storage/redis"
	"github.com/ragqueue/ragqueue/storage/sqlite"
	"github.com/ragqueue/ragqueue/storage/sqlstore"
)

// MetaStore is the metadata database as the binaries use it: the jobs
// layer's store plus API keys and the audit log. SQLite and PostgreSQL
// both provide it.
type MetaStore interface {
	sqlstore.Interfaces
	Ping(ctx context.Context) error
}

var (
	_ MetaStore = (*sqlite.Store)(nil)
	_ MetaStore = (*postgres.Store)(nil)
)

// App is one process's wiring: Open builds the adapters the config names
// and the use cases on top of them; cmd/api, cmd/worker and cmd/eval take
// the use cases from Services and start the workers with StartWorkers.
type App struct {
	cfg    Config
	logger *slog.Logger

	// Adapters (stores.go, spaces.go, pipeline.go, queue.go).
	store    MetaStore
	blobs    *storage.FileBlobs
	spaces   *retrieval.SpaceSet // the live one answers searches
	embedder retrieval.Embedder  // the live space's, as Open found it
	index    retrieval.Index     // the live space's, for readiness
	// newEmbedder is Config.NewEmbedder, except that RAGQ_EMBEDDER's
	// embedder, built by Open, is reused.
	newEmbedder retrieval.EmbedderFactory
	// batchEmbeds: RAGQ_EMBEDDER's embedder bills per call (a provider's).
	batchEmbeds bool
	reindexTo   string // RAGQ_EMBEDDER when its space is not the live one
	generator   retrieval.Generator
	chunker     ingest.Chunker
	pdf         *pdf.Parser
	// webClient is the one SSRF-guarded client every outbound fetch uses;
	// fetcher fetches single pages through it.
	webClient *http.Client
	fetcher   *web.Fetcher
	redisOpt  asynq.RedisConnOpt
	redis     goredis.UniversalClient // readiness checks, and queue's connections
	queue     *asynq.Client
	inspector *asynq.Inspector // cancels running tasks; queue metrics
	streams   *redis.Streams   // each job's events
	registry  *prometheus.Registry
	pipeline  *obs.Pipeline // the job figures recorded on registry

	// Use cases (services.go), built once by Open.
	services Services
	canceler *jobs.Canceler
	tracker  *jobs.Tracker

	closers []func() error // run in reverse order by Close
}

// Open connects everything cfg names and builds the use cases on it, after
// applying opts (tests). In embedded mode it starts an in-process Redis
// (miniredis) on a loopback port and keeps its clock moving, so that
// Asynq's leases, unique locks and TTLs expire as they would on a real
// Redis. Cancelling ctx stops that clock; call Close to release the rest.
func Open(ctx context.Context, cfg Config, logger *slog.Logger, opts ...Option) (a *App, err error) {
	a = &App{cfg: cfg, logger: logger}
	defer func() {
		if err != nil {
			_ = a.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o750); err != nil {
		return nil, fmt.Errorf("app: create data dir %s: %w", cfg.DataDir, err)
	}
	db, err := a.openStores(ctx)
	if err != nil {
		return nil, err
	}
	if err := a.openSpaces(ctx, db); err != nil {
		return nil, err
	}
	if err := a.openPipeline(ctx); err != nil {
		return nil, err
	}
	if err := a.openQueue(ctx); err != nil {
		return nil, err
	}
	a.apply(opts)
	a.openServices()
	return a, nil
}

// Mode names the running mode for logs.
func (a *App) Mode() string {
	if a.cfg.Embedded() {
		return "embedded"
	}
	return "redis"
}

// Models names the live embedding space's embedder and the answer
// generator, for logs.
func (a *App) Models() (embedder, generator string) {
	return a.embedder.Name(), a.generator.Name()
}

// ready reports whether Redis, the metadata database and the index answer.
func (a *App) ready(ctx context.Context) map[string]error {
	return map[string]error{
		"redis":    a.redis.Ping(ctx).Err(),
		"database": a.store.Ping(ctx),
		"index":    a.index.Ping(ctx),
	}
}

// Close releases everything Open acquired, newest first.
func (a *App) Close() error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	a.closers = nil
	return errors.Join(errs...)
}
