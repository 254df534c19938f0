// Package app is the wiring shared by cmd/api and cmd/worker: configuration
// from the environment and the construction of stores, index, queue and
// pipeline parts for embedded or production mode. It holds no business
// logic; that lives in jobs, ingest and retrieval.
package app

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/retrieval/provider"
	"github.com/ragqueue/ragqueue/storage/qdrant"
)

// Config is ragqueue's configuration. Every field comes from a RAGQ_*
// environment variable; LoadConfig documents the names and defaults.
type Config struct {
	Addr         string // RAGQ_ADDR
	DataDir      string // RAGQ_DATA_DIR
	AdminKey     string // RAGQ_ADMIN_KEY
	RedisURL     string // RAGQ_REDIS_URL; "" → embedded (in-process miniredis)
	DatabaseURL  string // RAGQ_DATABASE_URL; "" → SQLite in DataDir
	QdrantURL    string // RAGQ_QDRANT_URL; "" → embedded index
	QdrantAPIKey string // RAGQ_QDRANT_API_KEY
	Embedder     string // RAGQ_EMBEDDER
	LLM          string // RAGQ_LLM
	// RAGQ_LLM_MAX_CONTEXT_TOKENS, RAGQ_LLM_MAX_OUTPUT_TOKENS
	LLMMaxContextTokens, LLMMaxOutputTokens int
	WorkerConcurrency                       int            // RAGQ_WORKER_CONCURRENCY
	RunWorkers                              bool           // RAGQ_RUN_WORKERS: api also runs workers (always true when embedded)
	MaxUploadBytes                          int64          // RAGQ_MAX_UPLOAD_BYTES
	ChunkSize                               int            // RAGQ_CHUNK_SIZE
	ChunkOverlap                            int            // RAGQ_CHUNK_OVERLAP
	QueryTimeout                            time.Duration  // RAGQ_QUERY_TIMEOUT: how long a sync query waits
	ShutdownTimeout                         time.Duration  // RAGQ_SHUTDOWN_TIMEOUT
	LogLevel                                slog.Level     // RAGQ_LOG_LEVEL
	LogFormat                               string         // RAGQ_LOG_FORMAT: auto, json or text
	PDFTimeout                              time.Duration  // RAGQ_PDF_TIMEOUT
	PDFMaxMemory                            int64          // RAGQ_PDF_MAX_MEMORY_BYTES
	PDFMaxPages                             int            // RAGQ_PDF_MAX_PAGES
	PDFParallelism                          int            // RAGQ_PDF_PARALLELISM
	FetchAllowCIDRs                         []netip.Prefix // RAGQ_FETCH_ALLOW_CIDRS: private ranges fetching may reach
	FetchAllowedPorts                       []uint16       // RAGQ_FETCH_ALLOWED_PORTS
	CrawlMaxPages                           int            // RAGQ_CRAWL_MAX_PAGES: cap on a crawl's max_pages
	CrawlMaxDepth                           int            // RAGQ_CRAWL_MAX_DEPTH: cap on a crawl's max_depth
	CrawlMinRefresh                         time.Duration  // RAGQ_CRAWL_MIN_REFRESH: shortest refresh interval a crawl may ask for
	QueryMaxURLs                            int            // RAGQ_QUERY_MAX_URLS: URLs fetched per question
	CacheSimilarity                         float64        // RAGQ_CACHE_SIMILARITY: cosine from which a cached question answers another
	CacheTTL                                time.Duration  // RAGQ_CACHE_TTL: how long a cached answer is served
	CacheMaxEntries                         int            // RAGQ_CACHE_MAX_ENTRIES: cached answers per tenant; 0 turns the cache off
	EventsTTL                               time.Duration  // RAGQ_EVENTS_TTL: how long a job's event stream outlives its last event
	EventsMaxLen                            int64          // RAGQ_EVENTS_MAXLEN: approximate cap on one job's event stream
	SSEHeartbeat                            time.Duration  // RAGQ_SSE_HEARTBEAT: comment line interval on idle SSE streams
	WorkerPoll                              time.Duration  // RAGQ_WORKER_POLL_INTERVAL: how often an idle worker looks for new tasks

	// Providers are the model providers' own variables (OPENAI_BASE_URL…).
	Providers ProviderEnv
	// Operations (see ops.go).
	MetricsAddr           string        // RAGQ_METRICS_ADDR: "" → /metrics on the main router, admin keys only
	RateLimitRPS          int           // RAGQ_RATE_LIMIT_RPS: requests per second per key; 0 disables
	RateLimitBurst        int           // RAGQ_RATE_LIMIT_BURST
	RateLimitExpensiveRPM int           // RAGQ_RATE_LIMIT_EXPENSIVE_RPM: queries and crawls per minute per key; 0 disables
	TenantDailyTokens     int64         // RAGQ_TENANT_DAILY_TOKENS: LLM tokens per tenant per UTC day; 0 = no cap
	CORSOrigins           []string      // RAGQ_CORS_ORIGINS: empty → no CORS headers
	HTTPReadTimeout       time.Duration // RAGQ_HTTP_READ_TIMEOUT: whole request, body included
	SessionSecret         string        // RAGQ_SESSION_SECRET: signs monitoring session cookies; "" → random per process
	WebhookSecret         []byte        // RAGQ_WEBHOOK_SECRET: signs webhook deliveries; empty refuses callback_url
}

// Embedded reports whether ragqueue runs with its in-process Redis.
func (c Config) Embedded() bool { return c.RedisURL == "" }

// LoadConfig reads the configuration through getenv and validates it. The
// error names every bad setting and what would be accepted.
func LoadConfig(getenv func(string) string) (Config, error) {
	e := &env{getenv: getenv}
	c := Config{
		Addr:         e.get("RAGQ_ADDR", ":8080"),
		DataDir:      e.get("RAGQ_DATA_DIR", "./data"),
		AdminKey:     e.get("RAGQ_ADMIN_KEY", ""),
		RedisURL:     e.get("RAGQ_REDIS_URL", ""),
		DatabaseURL:  e.get("RAGQ_DATABASE_URL", ""),
		QdrantURL:    e.get("RAGQ_QDRANT_URL", ""),
		QdrantAPIKey: e.get("RAGQ_QDRANT_API_KEY", ""),
		Embedder:     e.get("RAGQ_EMBEDDER", "hash"),
		LLM:          e.get("RAGQ_LLM", "extractive"),
		LogFormat:    e.get("RAGQ_LOG_FORMAT", "auto"),
	}
	// The groups run in this order so that errors are listed as before.
	e.loadWork(&c)
	e.loadCrawls(&c)
	e.loadEvents(&c)
	e.loadCache(&c)
	e.loadFetching(&c)
	e.loadOperations(&c)
	e.loadRunWorkers(&c)
	e.checkServer(c)
	e.checkBackends(c)
	e.loadModels(&c)
	e.loadWebhooks(&c)
	e.loadLogging(&c)
	if len(e.errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration: %w", errors.Join(e.errs...))
	}
	return c, nil
}

// loadWork reads how much work a process takes on and how long it may
// take: worker concurrency, request size, chunking, timeouts, PDF parsing.
func (e *env) loadWork(c *Config) {
	defConc := int64(max(4, 2*runtime.NumCPU()))
	c.WorkerConcurrency = int(e.number("RAGQ_WORKER_CONCURRENCY", defConc, 1, 1024))
	c.MaxUploadBytes = e.number("RAGQ_MAX_UPLOAD_BYTES", 100<<20, 1024, 1<<40)
	c.ChunkSize = int(e.number("RAGQ_CHUNK_SIZE", 1000, 100, 20000))
	c.ChunkOverlap = int(e.number("RAGQ_CHUNK_OVERLAP", 150, 0, 10000))
	c.QueryTimeout = e.duration("RAGQ_QUERY_TIMEOUT", 30*time.Second)
	c.ShutdownTimeout = e.duration("RAGQ_SHUTDOWN_TIMEOUT", 30*time.Second)
	c.PDFTimeout = e.duration("RAGQ_PDF_TIMEOUT", 2*time.Minute)
	c.PDFMaxMemory = e.number("RAGQ_PDF_MAX_MEMORY_BYTES", 512<<20, 64<<20, 1<<40)
	c.PDFMaxPages = int(e.number("RAGQ_PDF_MAX_PAGES", 20000, 1, 10_000_000))
	c.PDFParallelism = int(e.number("RAGQ_PDF_PARALLELISM", 2, 1, 64))
}

// loadCrawls reads the caps on what crawls and questions may fetch.
func (e *env) loadCrawls(c *Config) {
	c.CrawlMaxPages = int(e.number("RAGQ_CRAWL_MAX_PAGES", 500, 1, 100000))
	c.CrawlMaxDepth = int(e.number("RAGQ_CRAWL_MAX_DEPTH", 3, 0, 100))
	c.CrawlMinRefresh = e.duration("RAGQ_CRAWL_MIN_REFRESH", time.Hour)
	c.QueryMaxURLs = int(e.number("RAGQ_QUERY_MAX_URLS", 3, 0, 20))
}

// loadEvents reads how job events are kept and streamed, and how often an
// idle worker looks for new tasks.
func (e *env) loadEvents(c *Config) {
	c.EventsTTL = e.duration("RAGQ_EVENTS_TTL", 24*time.Hour)
	c.EventsMaxLen = e.number("RAGQ_EVENTS_MAXLEN", 10000, 100, 10_000_000)
	c.SSEHeartbeat = e.duration("RAGQ_SSE_HEARTBEAT", 15*time.Second)
	// Idle workers poll: with Redis, 5 ms keeps a new question's pickup
	// within a few milliseconds for about 200 cheap script calls a second;
	// the in-process Redis runs its scripts on this process's CPU, so it
	// polls less often (5 ms would cost about a tenth of a core idle).
	defPoll := 5 * time.Millisecond
	if c.RedisURL == "" {
		defPoll = 50 * time.Millisecond
	}
	c.WorkerPoll = e.duration("RAGQ_WORKER_POLL_INTERVAL", defPoll)
}

// loadCache reads the answer cache's settings.
func (e *env) loadCache(c *Config) {
	c.CacheTTL = e.duration("RAGQ_CACHE_TTL", 24*time.Hour)
	c.CacheMaxEntries = int(e.number("RAGQ_CACHE_MAX_ENTRIES", 1000, 0, 1_000_000))
	sim := e.get("RAGQ_CACHE_SIMILARITY", "0.95")
	var err error
	if c.CacheSimilarity, err = strconv.ParseFloat(sim, 64); err != nil || c.CacheSimilarity <= 0 || c.CacheSimilarity > 1 {
		e.bad("RAGQ_CACHE_SIMILARITY", "%q is not a number above 0 and at most 1, such as 0.95", sim)
		c.CacheSimilarity = 0.95
	}
}

// loadFetching reads where outbound fetches may go beyond the public
// internet's web ports.
func (e *env) loadFetching(c *Config) {
	if cidrs, err := web.ParseAllowCIDRs(e.get("RAGQ_FETCH_ALLOW_CIDRS", "")); err != nil {
		e.bad("RAGQ_FETCH_ALLOW_CIDRS", "%s (expected ranges such as 127.0.0.0/8, ::1)", ragqueue.ErrorMessage(err))
	} else {
		c.FetchAllowCIDRs = cidrs
	}
	for _, f := range e.list("RAGQ_FETCH_ALLOWED_PORTS", "80,443") {
		p, err := strconv.ParseUint(f, 10, 16)
		if err != nil || p == 0 {
			e.bad("RAGQ_FETCH_ALLOWED_PORTS", "%q is not a port from 1 to 65535 (expected a list such as 80,443)", f)
			continue
		}
		c.FetchAllowedPorts = append(c.FetchAllowedPorts, uint16(p))
	}
}

// loadOperations reads the operators' settings: metrics, rate limits and
// budgets, the HTTP read timeout, sessions and CORS.
func (e *env) loadOperations(c *Config) {
	c.MetricsAddr = e.get("RAGQ_METRICS_ADDR", "")
	c.RateLimitRPS = int(e.number("RAGQ_RATE_LIMIT_RPS", 20, 0, 1_000_000))
	c.RateLimitBurst = int(e.number("RAGQ_RATE_LIMIT_BURST", 40, 1, 1_000_000))
	c.RateLimitExpensiveRPM = int(e.number("RAGQ_RATE_LIMIT_EXPENSIVE_RPM", 30, 0, 1_000_000))
	c.TenantDailyTokens = e.number("RAGQ_TENANT_DAILY_TOKENS", 0, 0, 1<<50)
	c.HTTPReadTimeout = e.duration("RAGQ_HTTP_READ_TIMEOUT", 10*time.Minute)
	c.SessionSecret = e.get("RAGQ_SESSION_SECRET", "")
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		e.bad("RAGQ_SESSION_SECRET", "is %d characters; use at least 32 random characters", len(c.SessionSecret))
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			e.bad("RAGQ_METRICS_ADDR", "%q is not host:port (for example 127.0.0.1:9090)", c.MetricsAddr)
		} else if c.MetricsAddr == c.Addr && port != "0" {
			e.bad("RAGQ_METRICS_ADDR", "%q is RAGQ_ADDR; use another port, or leave it empty to serve /metrics there to admin keys", c.MetricsAddr)
		}
	}
	for _, o := range e.list("RAGQ_CORS_ORIGINS", "") {
		if err := checkOrigin(o); err != nil {
			e.bad("RAGQ_CORS_ORIGINS", "%q %v", o, err)
			continue
		}
		c.CORSOrigins = append(c.CORSOrigins, strings.TrimSuffix(o, "/"))
	}
}

// loadRunWorkers reads whether cmd/api runs workers too; embedded, it
// always does.
func (e *env) loadRunWorkers(c *Config) {
	switch s := strings.ToLower(e.get("RAGQ_RUN_WORKERS", "false")); s {
	case "1", "true", "yes":
		c.RunWorkers = true
	case "0", "false", "no":
	default:
		e.bad("RAGQ_RUN_WORKERS", "%q is not true or false", s)
	}
	if c.Embedded() {
		c.RunWorkers = true // nothing else would run the jobs
	}
}

// checkServer checks the listen address, the chunking and the admin key.
func (e *env) checkServer(c Config) {
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		e.bad("RAGQ_ADDR", "%q is not host:port (for example :8080 or 127.0.0.1:8080)", c.Addr)
	}
	if c.ChunkOverlap >= c.ChunkSize {
		e.bad("RAGQ_CHUNK_OVERLAP", "%d must be smaller than RAGQ_CHUNK_SIZE (%d)", c.ChunkOverlap, c.ChunkSize)
	}
	if c.AdminKey != "" && len(c.AdminKey) < 24 {
		e.bad("RAGQ_ADMIN_KEY", "is %d characters; use at least 24 random characters", len(c.AdminKey))
	}
}

// checkBackends checks the Redis, database and Qdrant URLs and the
// embedder setting, without connecting.
func (e *env) checkBackends(c Config) {
	if c.RedisURL != "" {
		if _, err := asynq.ParseRedisURI(c.RedisURL); err != nil {
			e.bad("RAGQ_REDIS_URL", "%v (expected redis://[:password@]host[:port][/db])", err)
		}
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		e.bad("RAGQ_DATABASE_URL", "only postgres:// URLs are supported; leave it empty for SQLite in RAGQ_DATA_DIR")
	}
	if c.QdrantURL != "" {
		if _, err := qdrant.ConfigFromURL(c.QdrantURL, c.QdrantAPIKey); err != nil {
			e.bad("RAGQ_QDRANT_URL", "%s (expected the gRPC address, e.g. http://127.0.0.1:6334)", ragqueue.ErrorMessage(err))
		}
	}
	if err := CheckEmbedder(c.Embedder); err != nil {
		e.bad("RAGQ_EMBEDDER", "%s", ragqueue.ErrorMessage(err))
	}
}

// loadModels reads the model providers' variables and the generator's
// settings.
func (e *env) loadModels(c *Config) {
	c.Providers = loadProviderEnv(e.get)
	if strings.ToLower(c.LLM) != "extractive" {
		if _, _, err := provider.ParseGeneratorSpec(c.LLM); err != nil {
			e.bad("RAGQ_LLM", "%s; or extractive (no model)", ragqueue.ErrorMessage(err))
		}
	}
	c.LLMMaxContextTokens = int(e.number("RAGQ_LLM_MAX_CONTEXT_TOKENS", 3000, 100, 1_000_000))
	c.LLMMaxOutputTokens = int(e.number("RAGQ_LLM_MAX_OUTPUT_TOKENS", 1024, 16, 200_000))
}

// loadWebhooks reads the secret that signs webhook deliveries.
func (e *env) loadWebhooks(c *Config) {
	if ws := e.get("RAGQ_WEBHOOK_SECRET", ""); ws != "" {
		if len(ws) < 16 {
			e.bad("RAGQ_WEBHOOK_SECRET", "is %d characters; use at least 16 random characters", len(ws))
		}
		c.WebhookSecret = []byte(ws)
	}
}

// loadLogging reads the log level and format.
func (e *env) loadLogging(c *Config) {
	if lvl, err := parseLevel(e.get("RAGQ_LOG_LEVEL", "info")); err != nil {
		e.bad("RAGQ_LOG_LEVEL", "%v", err)
	} else {
		c.LogLevel = lvl
	}
	switch c.LogFormat {
	case "auto", "json", "text":
	default:
		e.bad("RAGQ_LOG_FORMAT", "%q is not auto, json or text", c.LogFormat)
	}
}
