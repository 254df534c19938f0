package app

import (
	"context"

	"github.com/hibiken/asynq"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/crawls"
	"github.com/ragqueue/ragqueue/jobs/documents"
	"github.com/ragqueue/ragqueue/jobs/keys"
	"github.com/ragqueue/ragqueue/jobs/queries"
	"github.com/ragqueue/ragqueue/jobs/spaces"
	"github.com/ragqueue/ragqueue/storage/redis"
)

// Services are what the faces (cmd/api, cmd/eval) are handed: the use
// cases, and the few parts HTTP serving needs besides them.
type Services struct {
	// Documents is the document use case: the ingestion pipeline and
	// what starts it.
	Documents *documents.Service
	// Queries checks, caches, enqueues, cancels and searches questions
	// and keeps their conversations.
	Queries *queries.Service
	// Crawler enqueues crawls.
	Crawler *crawls.Service
	// Reindexer builds another embedding space (POST /v1/admin/reindex).
	Reindexer *spaces.Service
	// Keys mints and checks API keys and keeps the audit log.
	Keys *keys.Service
	// Jobs reads job records and waits for jobs to end.
	Jobs *jobs.Client
	// Feed replays and follows job events for SSE and WebSocket clients.
	Feed *jobs.Feed
	// Limiter enforces the API's request rates, shared through Redis.
	Limiter ragqueue.RateLimiter
	// Ready reports whether Redis, the metadata database and the index
	// answer, by name.
	Ready func(ctx context.Context) map[string]error
	// Registry is this process's Prometheus registry; the workers this
	// process runs record their pipeline figures on it.
	Registry *prometheus.Registry
	// RedisOpt connects the Asynq web UI to the queue's Redis.
	RedisOpt asynq.RedisConnOpt
}

// Services returns the use cases Open built.
func (a *App) Services() Services { return a.services }

// openServices builds the use cases on the adapters: metrics, job
// tracking and events, then documents, and queries, crawls and re-indexing
// on documents, then keys.
func (a *App) openServices() {
	a.registry, a.pipeline = a.newMetrics()
	jobsClient := jobs.NewClient(a.queue, a.store, a.logger)
	a.tracker = jobs.NewTracker(a.store, a.queue, a.streams, a.logger)
	a.canceler = jobs.NewCanceler(a.store, a.streams, a.inspector, a.logger)
	docs := a.newDocuments(jobsClient)
	a.services = Services{
		Documents: docs,
		Queries:   a.newQueries(jobsClient, docs),
		Crawler:   a.newCrawler(jobsClient, docs),
		Reindexer: a.newReindexer(jobsClient, docs),
		Keys:      keys.New(keys.Config{Keys: a.store, Audit: a.store, Logger: a.logger}),
		Jobs:      jobsClient,
		Feed: jobs.NewFeed(eventSource{a.streams}, a.store,
			jobs.FeedOptions{Heartbeat: a.cfg.SSEHeartbeat, Logger: a.logger}),
		Limiter:  redis.NewLimiter(a.redis),
		Ready:    a.ready,
		Registry: a.registry,
		RedisOpt: a.redisOpt,
	}
}

func (a *App) newDocuments(client *jobs.Client) *documents.Service {
	return documents.New(documents.Config{
		Store: a.store, Blobs: a.blobs, Spaces: a.spaces, Chunker: a.chunker, PDF: a.pdf,
		MaxParseBytes: a.cfg.MaxUploadBytes,
		// The configured embedder bills per call: small documents share calls.
		BatchEmbeds: a.batchEmbeds,
		Client:      client, Tracker: a.tracker, Metrics: a.pipeline, Logger: a.logger,
	})
}

// newQueries builds the question use case, with the answer cache unless
// RAGQ_CACHE_MAX_ENTRIES is 0 and the per-tenant daily token budget
// (RAGQ_TENANT_DAILY_TOKENS), counted in Redis.
func (a *App) newQueries(client *jobs.Client, docs *documents.Service) *queries.Service {
	cfg := a.cfg
	var cache *queries.AnswerCache
	if cfg.CacheMaxEntries > 0 {
		cache = queries.NewAnswerCache(a.store, queries.CacheOptions{
			Similarity: cfg.CacheSimilarity, TTL: cfg.CacheTTL, MaxEntries: cfg.CacheMaxEntries,
		}, a.logger)
	}
	return queries.New(queries.Config{
		Conversations: a.store, Spaces: a.spaces, Generator: a.generator, Documents: docs,
		Fetcher: a.fetcher, MaxURLs: cfg.QueryMaxURLs, Cache: cache,
		TokenBudget: redis.NewTokenBudget(a.redis, cfg.TenantDailyTokens),
		Client:      client, Tracker: a.tracker, Canceler: a.canceler, Signed: len(cfg.WebhookSecret) > 0,
		Metrics: a.pipeline, Logger: a.logger,
	})
}

func (a *App) newCrawler(client *jobs.Client, docs *documents.Service) *crawls.Service {
	return crawls.New(crawls.Config{
		Crawls: a.store, Documents: docs, Fetcher: a.fetcher, WebClient: a.webClient,
		Client: client, Tracker: a.tracker, Logger: a.logger,
		Limits: crawls.Limits{MaxPages: a.cfg.CrawlMaxPages, MaxDepth: a.cfg.CrawlMaxDepth, MinRefresh: a.cfg.CrawlMinRefresh},
		Signed: len(a.cfg.WebhookSecret) > 0,
	})
}

func (a *App) newReindexer(client *jobs.Client, docs *documents.Service) *spaces.Service {
	return spaces.New(spaces.Config{
		Spaces: a.spaces, Factory: a.newEmbedder, Documents: docs,
		DefaultEmbedder: a.cfg.Embedder, CheckEmbedder: CheckEmbedder,
		Client: client, Tracker: a.tracker, Logger: a.logger,
	})
}
