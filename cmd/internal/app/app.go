package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/pdf"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/keys"
	"github.com/ragqueue/ragqueue/jobs/queries"
	"github.com/ragqueue/ragqueue/obs"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
	"github.com/ragqueue/ragqueue/storage/postgres"
	"github.com/ragqueue/ragqueue/storage/qdrant"
	"github.com/ragqueue/ragqueue/storage/redis"
	"github.com/ragqueue/ragqueue/storage/sqlite"
)

// MetaStore is the metadata database as the binaries use it: the jobs
// layer's store plus API keys and the audit log. SQLite and PostgreSQL
// both provide it.
type MetaStore interface {
	ragqueue.DocumentStore
	ragqueue.ChunkStore
	ragqueue.JobStore
	ragqueue.CrawlStore
	ragqueue.ConversationStore
	ragqueue.CacheStore
	ragqueue.KeyStore
	ragqueue.AuditStore
	Ping(ctx context.Context) error
}

var (
	_ MetaStore = (*sqlite.Store)(nil)
	_ MetaStore = (*postgres.Store)(nil)
)

// App is one process's set of connected parts. cmd/api and cmd/worker build
// one with Open and use the parts they need.
type App struct {
	Config   Config
	Logger   *slog.Logger
	Store    MetaStore
	Index    retrieval.Index
	Blobs    *storage.FileBlobs
	Embedder retrieval.Embedder
	// Spaces are the embedding spaces: the live one answers searches.
	Spaces    *retrieval.SpaceSet
	Generator retrieval.Generator
	Chunker   ingest.Chunker
	RedisOpt  asynq.RedisConnOpt
	Redis     goredis.UniversalClient // readiness checks, and Queue's connections
	Queue     *asynq.Client
	Jobs      *jobs.Client
	PDF       *pdf.Parser
	// WebClient is the one SSRF-guarded client every outbound fetch uses;
	// Fetcher fetches single pages through it.
	WebClient *http.Client
	Fetcher   *web.Fetcher
	// Registry is this process's Prometheus registry; Pipeline the job
	// figures recorded on it.
	Registry *prometheus.Registry
	Pipeline *obs.Pipeline
	// Events holds each job's event stream in Redis: workers publish,
	// the API relays to SSE and WebSocket clients.
	Events *redis.Streams
	// Inspector cancels running tasks (a streaming client went away).
	Inspector *asynq.Inspector
	// Feed replays and follows job events for SSE and WebSocket clients;
	// Canceler cancels the job of a streaming client that went away.
	Feed     *jobs.Feed
	Canceler *jobs.Canceler
	// Keys mints and checks API keys and keeps the audit log.
	Keys *keys.Service
	// Cache is the answer cache; nil when RAGQ_CACHE_MAX_ENTRIES is 0
	// (the cache is off).
	Cache *queries.AnswerCache
	// TokenBudget is the per-tenant daily LLM token budget
	// (RAGQ_TENANT_DAILY_TOKENS), counted in Redis.
	TokenBudget *redis.TokenBudget
	// Limiter enforces the API's request rates, shared through Redis.
	Limiter ragqueue.RateLimiter

	closers   []func() error // run in reverse order by Close
	reindexTo string         // RAGQ_EMBEDDER when its space is not the live one
	// batchEmbeds: RAGQ_EMBEDDER's embedder bills per call (a provider's),
	// so small documents share embedding calls.
	batchEmbeds bool
	// newEmbedder is Config.NewEmbedder, except that RAGQ_EMBEDDER's
	// embedder, built by Open, is reused.
	newEmbedder retrieval.EmbedderFactory
}

// Open connects everything cfg names. In embedded mode it starts an
// in-process Redis (miniredis) on a loopback port and keeps its clock moving,
// so that Asynq's leases, unique locks and TTLs expire as they would on a
// real Redis. Cancelling ctx stops that clock; call Close to release the rest.
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (a *App, err error) {
	a = &App{Config: cfg, Logger: logger}
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
	a.openServices()
	return a, nil
}

// openStores opens the metadata store and the SQLite database that holds
// the embedded index (and, without PostgreSQL, the metadata too). In
// SQLite mode they share one file, as promised by the README; with
// PostgreSQL metadata the embedded index gets its own.
func (a *App) openStores(ctx context.Context) (*sqlite.DB, error) {
	cfg := a.Config
	indexPath := filepath.Join(cfg.DataDir, "ragqueue.db")
	if cfg.DatabaseURL != "" {
		pg, err := postgres.Open(ctx, cfg.DatabaseURL)
		if err != nil {
			return nil, fmt.Errorf("app: metadata database: %w", err)
		}
		a.closers = append(a.closers, func() error { pg.Close(); return nil })
		a.Store = pg
		indexPath = filepath.Join(cfg.DataDir, "index.db")
	}
	db, err := sqlite.Open(ctx, indexPath)
	if err != nil {
		return nil, fmt.Errorf("app: %w", err)
	}
	a.closers = append(a.closers, db.Close)
	if a.Store == nil {
		a.Store = sqlite.NewStore(db)
	}
	return db, nil
}

// openPipeline makes the parts the jobs work with: the generator, the
// chunker, the PDF parser, the guarded web client and the blob store.
func (a *App) openPipeline(ctx context.Context) (err error) {
	cfg := a.Config
	if a.Generator, err = cfg.NewGenerator(ctx); err != nil {
		return fmt.Errorf("app: RAGQ_LLM: %w", err)
	}
	a.Chunker = ingest.Chunker{Size: cfg.ChunkSize, Overlap: cfg.ChunkOverlap}
	a.PDF = pdf.NewParser(selfExe(), pdf.Limits{
		Timeout: cfg.PDFTimeout, MemoryBytes: cfg.PDFMaxMemory, MaxPages: cfg.PDFMaxPages, Parallelism: cfg.PDFParallelism,
	})
	a.WebClient = web.NewClient(web.GuardOptions{AllowCIDRs: cfg.FetchAllowCIDRs, AllowedPorts: cfg.FetchAllowedPorts})
	a.Fetcher = web.NewFetcher(a.WebClient, web.FetchOptions{})
	// Small blobs (fetched pages, short uploads) go to the metadata database:
	// creating a file per blob is the biggest cost of a crawl. Both stores
	// implement SmallBlobStore (the storetest contract suite requires it);
	// a MetaStore that does not keeps every blob a file.
	var blobOpts []storage.BlobOption
	if small, ok := a.Store.(storage.SmallBlobStore); ok {
		blobOpts = append(blobOpts, storage.WithSmallBlobs(small, storage.DefaultSmallBlobMax))
	}
	if a.Blobs, err = storage.NewFileBlobs(filepath.Join(cfg.DataDir, "blobs"), blobOpts...); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return nil
}

// openQueue connects to Redis, or in embedded mode starts the in-process
// one and keeps its clock moving until ctx ends, and makes the queue's
// clients on one connection pool.
func (a *App) openQueue(ctx context.Context) error {
	cfg := a.Config
	if cfg.Embedded() {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("app: start embedded redis: %w", err)
		}
		a.closers = append(a.closers, func() error { m.Close(); return nil })
		go redis.RunMiniredisClock(ctx, m, 100*time.Millisecond)
		a.RedisOpt = asynq.RedisClientOpt{Addr: m.Addr()}
	} else {
		opt, err := asynq.ParseRedisURI(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("app: RAGQ_REDIS_URL: %w", err)
		}
		a.RedisOpt = opt
	}
	rc, ok := a.RedisOpt.MakeRedisClient().(goredis.UniversalClient)
	if !ok {
		return errors.New("app: unexpected redis client type")
	}
	a.Redis = rc
	a.closers = append(a.closers, rc.Close)
	// One connection pool for both; closing rc closes Queue's.
	a.Queue = asynq.NewClientFromRedisClient(rc)
	a.Jobs = jobs.NewClient(a.Queue, a.Store, a.Logger)
	a.Inspector = asynq.NewInspectorFromRedisClient(rc)
	return nil
}

// openServices makes what the faces and workers use on top of the stores
// and the queue: metrics, the token budget, the answer cache, the event
// streams and their feed, cancellation, and keys.
func (a *App) openServices() {
	cfg, logger, rc := a.Config, a.Logger, a.Redis
	a.Registry, a.Pipeline = a.NewMetrics()
	a.TokenBudget = redis.NewTokenBudget(rc, cfg.TenantDailyTokens)
	a.Limiter = redis.NewLimiter(rc)
	if cfg.CacheMaxEntries > 0 {
		a.Cache = queries.NewAnswerCache(a.Store, queries.CacheOptions{
			Similarity: cfg.CacheSimilarity, TTL: cfg.CacheTTL, MaxEntries: cfg.CacheMaxEntries,
		}, logger)
	}
	a.Events = redis.NewStreams(rc, redis.StreamOptions{TTL: cfg.EventsTTL, MaxLen: cfg.EventsMaxLen, Logger: logger})
	a.closers = append(a.closers, a.Events.Close)
	a.Feed = jobs.NewFeed(eventSource{a.Events}, a.Store, jobs.FeedOptions{Heartbeat: cfg.SSEHeartbeat, Logger: logger})
	a.Canceler = jobs.NewCanceler(a.Store, a.Events, a.Inspector, logger)
	a.Keys = keys.New(keys.Config{Keys: a.Store, Audit: a.Store, Logger: logger})
}

// openSpaces opens the embedding spaces (Qdrant's collections, or the
// embedded index's), makes the configured embedder's space live when none
// is, and sets Spaces, and Embedder and Index to the live space's. When
// another space is live (RAGQ_EMBEDDER changed), it keeps answering, and
// reindexTo names the space to build.
func (a *App) openSpaces(ctx context.Context, db *sqlite.DB) error {
	cfg := a.Config
	var spaces retrieval.Spaces
	if cfg.QdrantURL != "" {
		qc, err := qdrant.ConfigFromURL(cfg.QdrantURL, cfg.QdrantAPIKey)
		if err != nil {
			return fmt.Errorf("app: RAGQ_QDRANT_URL: %w", err)
		}
		qs, err := qdrant.Open(ctx, qc, a.Logger)
		if err != nil {
			return fmt.Errorf("app: qdrant at %s: %w", qc.Addr, err)
		}
		a.closers = append(a.closers, qs.Close)
		spaces = qs
	} else {
		ss := sqlite.NewSpaces(db, sqlite.SpacesOptions{})
		a.closers = append(a.closers, ss.Close)
		spaces = ss
	}
	emb, err := cfg.NewEmbedder(ctx, cfg.Embedder)
	if err != nil {
		return fmt.Errorf("app: RAGQ_EMBEDDER: %w", err)
	}
	// The batching policy is the configured embedder's, as built here,
	// whichever space is live and whatever a test wraps it in later.
	a.batchEmbeds = retrieval.BillsPerCall(emb)
	// A provider's embedder is probed for its dimension when built: the
	// configured one is built once, here, and reused for its space.
	a.newEmbedder = func(ctx context.Context, spec string) (retrieval.Embedder, error) {
		if spec == cfg.Embedder {
			return emb, nil
		}
		return cfg.NewEmbedder(ctx, spec)
	}
	configured := retrieval.Space{Name: emb.Name(), Embedder: cfg.Embedder, Dim: emb.Dim()}
	live, ok, err := spaces.Live(ctx)
	if err != nil {
		return fmt.Errorf("app: live embedding space: %w", err)
	}
	if !ok {
		if _, err := spaces.Open(ctx, configured); err != nil {
			return fmt.Errorf("app: open embedding space %s: %w", configured.Name, err)
		}
		if err := spaces.SetLive(ctx, configured); err != nil {
			return fmt.Errorf("app: embedding space %s: %w", configured.Name, err)
		}
		live = configured
	}
	a.Spaces = retrieval.NewSpaceSet(spaces, a.newEmbedder, retrieval.DefaultSpaceRefresh, a.Logger)
	snap, err := a.Spaces.Snapshot(ctx)
	if err != nil {
		return fmt.Errorf("app: embedding spaces: %w", err)
	}
	a.Embedder, a.Index = snap.Embedder(), snap.Live.Index
	if live.Name != configured.Name {
		a.reindexTo = cfg.Embedder
		a.Logger.Warn("RAGQ_EMBEDDER names another embedding space than the live one: the live one answers until a re-index into the new one completes",
			"live", live.Name, "configured", configured.Name)
	}
	return nil
}

// selfExe is the binary PDF children are started from: this process's own
// image. /proc/self/exe keeps pointing at it even if a deploy replaces the
// file on disk while the process runs.
func selfExe() string {
	if _, err := os.Stat("/proc/self/exe"); err == nil {
		return "/proc/self/exe"
	}
	exe, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return exe
}

// StartWorkers starts an Asynq server that runs every job handler, first
// putting back what the database says is unfinished (the queue carries work,
// not truth). The returned stop function waits for running jobs up to the
// shutdown timeout and hands the rest back to Redis.
func (a *App) StartWorkers(ctx context.Context) (stop func(), err error) {
	if a.Config.Embedded() {
		// The in-process Redis starts empty: queries that were waiting when the
		// process stopped cannot be answered any more, documents can.
		if n, err := queries.FailInterrupted(ctx, a.Store); err != nil {
			return nil, fmt.Errorf("app: %w", err)
		} else if n > 0 {
			a.Logger.Info("failed queries interrupted by the restart", "count", n)
		}
	}
	passes := []jobs.ReconcilePass{a.Documents().ReconcilePass, a.Crawler().ReconcilePass}
	if n, err := jobs.Reconcile(ctx, passes...); err != nil {
		return nil, fmt.Errorf("app: reconcile: %w", err)
	} else if n > 0 {
		a.Logger.Info("re-enqueued unfinished documents", "count", n)
	}
	if a.reindexTo != "" {
		// Every process that runs workers asks; the task ID makes it one job.
		job, err := a.Reindexer().Reindex(ctx, keys.DefaultTenant, a.reindexTo)
		switch {
		case err == nil:
			a.Logger.Info("re-index into the configured embedding space started", "embedder", a.reindexTo, "job_id", job.ID)
		case ragqueue.ErrorCode(err) == ragqueue.ECONFLICT:
		default:
			return nil, fmt.Errorf("app: start re-index into %s: %w", a.reindexTo, err)
		}
	}
	srv := jobs.NewServer(a.RedisOpt, jobs.ServerConfig{
		Concurrency:     a.Config.WorkerConcurrency,
		Logger:          a.Logger,
		ShutdownTimeout: a.Config.ShutdownTimeout,
		PollInterval:    a.Config.WorkerPoll,
	})
	mux := a.workerMux(passes)
	if err := srv.Start(mux); err != nil {
		return nil, fmt.Errorf("app: start workers: %w", err)
	}
	// The reconciliation at start above, then every jobs.ReconcileEvery:
	// what Redis lost while running (a restart without persistence, an
	// eviction) is found again.
	sched, err := jobs.StartReconciler(a.RedisOpt, a.Logger)
	if err != nil {
		srv.Shutdown()
		return nil, fmt.Errorf("app: %w", err)
	}
	a.Logger.Info("workers started", "concurrency", a.Config.WorkerConcurrency, "queues", jobs.Queues())
	return func() { sched.Shutdown(); srv.Shutdown() }, nil
}

// Ready reports whether Redis, the metadata database and the index answer.
func (a *App) Ready(ctx context.Context) map[string]error {
	return map[string]error{
		"redis":    a.Redis.Ping(ctx).Err(),
		"database": a.Store.Ping(ctx),
		"index":    a.Index.Ping(ctx),
	}
}

// Mode names the running mode for logs.
func (a *App) Mode() string {
	if a.Config.Embedded() {
		return "embedded"
	}
	return "redis"
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
