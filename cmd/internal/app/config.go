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
	"net/url"
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

// Setting documents one environment variable for the README and --help.
type Setting struct {
	Name, Default, Meaning string
}

// Settings lists every environment variable LoadConfig reads.
func Settings() []Setting {
	return []Setting{
		{"RAGQ_ADDR", ":8080", "HTTP listen address"},
		{"RAGQ_DATA_DIR", "./data", "SQLite files and uploaded bytes over 1 MiB (smaller ones are kept in the metadata database)"},
		{"RAGQ_ADMIN_KEY", "(generated)", "admin API key for tenant \"default\" (≥ 24 characters); generated and printed on first start when unset"},
		{"RAGQ_REDIS_URL", "(empty: embedded)", "Redis for Asynq, e.g. redis://127.0.0.1:6379/0; empty runs an in-process Redis"},
		{"RAGQ_DATABASE_URL", "(empty: SQLite)", "metadata database, e.g. postgres://user:pass@host:5432/db; empty uses SQLite in the data dir"},
		{"RAGQ_QDRANT_URL", "(empty: embedded)", "Qdrant gRPC address (port 6334), e.g. http://127.0.0.1:6334, or https://… for TLS; empty uses the embedded index"},
		{"RAGQ_QDRANT_API_KEY", "(empty)", "Qdrant API key"},
		{"RAGQ_EMBEDDER", "hash", "embedder: hash or hash:DIM (feature hashing, no model), or openai:MODEL, ollama:MODEL, googleai:MODEL, mistral:MODEL, voyageai:MODEL, jina:MODEL; changing it re-indexes in the background"},
		{"RAGQ_LLM", "extractive", "answer generator: extractive (no model), or openai:MODEL, ollama:MODEL, anthropic:MODEL, googleai:MODEL, mistral:MODEL (streamed where the provider streams)"},
		{"RAGQ_LLM_MAX_CONTEXT_TOKENS", "3000", "passages given to the model, in tokens (estimated); the rest are left out"},
		{"RAGQ_LLM_MAX_OUTPUT_TOKENS", "1024", "most tokens the model may write per answer"},
		{"RAGQ_WORKER_CONCURRENCY", "2×CPUs, at least 4", "jobs run at once per worker process"},
		{"RAGQ_RUN_WORKERS", "false", "with RAGQ_REDIS_URL set, also run workers inside cmd/api"},
		{"RAGQ_MAX_UPLOAD_BYTES", "104857600", "largest request body accepted (413 above)"},
		{"RAGQ_CHUNK_SIZE", "1000", "chunk size in characters"},
		{"RAGQ_CHUNK_OVERLAP", "150", "chunk overlap in characters"},
		{"RAGQ_QUERY_TIMEOUT", "30s", "how long a sync query waits before answering 504 with its job_id"},
		{"RAGQ_SHUTDOWN_TIMEOUT", "30s", "how long running requests and jobs get at shutdown"},
		{"RAGQ_PDF_TIMEOUT", "2m", "longest a PDF may take to parse before it is rejected"},
		{"RAGQ_PDF_MAX_MEMORY_BYTES", "536870912", "memory limit of each PDF parsing child process; a PDF needing more is rejected"},
		{"RAGQ_PDF_MAX_PAGES", "20000", "most pages a PDF may have"},
		{"RAGQ_PDF_PARALLELISM", "2", "child processes parsing one PDF's page ranges at once"},
		{"RAGQ_FETCH_ALLOW_CIDRS", "(empty)", "address ranges that crawls and questions may fetch although private or loopback, e.g. 127.0.0.0/8 for development"},
		{"RAGQ_FETCH_ALLOWED_PORTS", "80,443", "destination ports crawls and questions may fetch from"},
		{"RAGQ_CRAWL_MAX_PAGES", "500", "most pages one crawl may ask for (max_pages)"},
		{"RAGQ_CRAWL_MAX_DEPTH", "3", "deepest a crawl may ask to go (max_depth)"},
		{"RAGQ_CRAWL_MIN_REFRESH", "1h", "shortest interval a crawl may ask to be re-run at (refresh)"},
		{"RAGQ_QUERY_MAX_URLS", "3", "most URLs one question may name; each is fetched and indexed before answering"},
		{"RAGQ_WEBHOOK_SECRET", "(empty)", "signs webhook notifications (HMAC-SHA256, ≥ 16 characters); without it requests with callback_url are refused"},
		{"RAGQ_CACHE_SIMILARITY", "0.95", "answer cache: cosine similarity (0–1] from which an earlier question's answer is served for a new one"},
		{"RAGQ_CACHE_TTL", "24h", "answer cache: how long a cached answer is served"},
		{"RAGQ_CACHE_MAX_ENTRIES", "1000", "answer cache: cached answers kept per tenant (oldest go first); 0 turns the cache off"},
		{"RAGQ_EVENTS_TTL", "24h", "how long a job's event stream (SSE/WebSocket replay) is kept after its last event"},
		{"RAGQ_EVENTS_MAXLEN", "10000", "approximate most events kept per job stream"},
		{"RAGQ_SSE_HEARTBEAT", "15s", "interval of the comment heartbeat on idle SSE and WebSocket streams"},
		{"RAGQ_WORKER_POLL_INTERVAL", "5ms with Redis, 50ms embedded", "how often an idle worker looks at empty queues; bounds the pickup delay of a new job, a question's first token included (each poll is one Redis script call)"},
		{"RAGQ_LOG_LEVEL", "info", "debug, info, warn or error"},
		{"RAGQ_LOG_FORMAT", "auto", "json, text, or auto (text on a terminal, else JSON)"},
		{"RAGQ_METRICS_ADDR", "(empty)", "separate listen address serving /metrics without a key (keep it private); empty: /metrics on RAGQ_ADDR for admin keys"},
		{"RAGQ_RATE_LIMIT_RPS", "20", "requests per second each API key may make on average (0 disables rate limiting)"},
		{"RAGQ_RATE_LIMIT_BURST", "40", "requests an API key may make at once before RAGQ_RATE_LIMIT_RPS applies"},
		{"RAGQ_RATE_LIMIT_EXPENSIVE_RPM", "30", "POST /v1/queries and POST /v1/crawls per minute per key, on top of the general limit (0 disables)"},
		{"RAGQ_TENANT_DAILY_TOKENS", "0", "LLM tokens each tenant may use per UTC day (0: no cap)"},
		{"RAGQ_CORS_ORIGINS", "(empty)", "browser origins allowed to call the API, e.g. https://app.example.com (comma-separated, or *); empty sends no CORS headers"},
		{"RAGQ_HTTP_READ_TIMEOUT", "10m", "longest a client may take to send a whole request, upload included"},
		{"RAGQ_SESSION_SECRET", "(random)", "secret (≥ 32 characters) signing /monitoring session cookies; set the same value on every api replica, else each process makes its own"},
	}
}

// LoadConfig reads the configuration through getenv and validates it. The
// error names every bad setting and what would be accepted.
func LoadConfig(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	intSetting := func(name string, def, min, max int64) int64 {
		s := get(name, strconv.FormatInt(def, 10))
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < min || v > max {
			bad(name, "%q is not a whole number from %d to %d", s, min, max)
			return def
		}
		return v
	}
	durSetting := func(name string, def time.Duration) time.Duration {
		s := get(name, def.String())
		v, err := time.ParseDuration(s)
		if err != nil || v <= 0 {
			bad(name, "%q is not a positive duration such as 30s or 2m", s)
			return def
		}
		return v
	}

	c := Config{
		Addr:         get("RAGQ_ADDR", ":8080"),
		DataDir:      get("RAGQ_DATA_DIR", "./data"),
		AdminKey:     get("RAGQ_ADMIN_KEY", ""),
		RedisURL:     get("RAGQ_REDIS_URL", ""),
		DatabaseURL:  get("RAGQ_DATABASE_URL", ""),
		QdrantURL:    get("RAGQ_QDRANT_URL", ""),
		QdrantAPIKey: get("RAGQ_QDRANT_API_KEY", ""),
		Embedder:     get("RAGQ_EMBEDDER", "hash"),
		LLM:          get("RAGQ_LLM", "extractive"),
		LogFormat:    get("RAGQ_LOG_FORMAT", "auto"),
	}
	defConc := int64(max(4, 2*runtime.NumCPU()))
	c.WorkerConcurrency = int(intSetting("RAGQ_WORKER_CONCURRENCY", defConc, 1, 1024))
	c.MaxUploadBytes = intSetting("RAGQ_MAX_UPLOAD_BYTES", 100<<20, 1024, 1<<40)
	c.ChunkSize = int(intSetting("RAGQ_CHUNK_SIZE", 1000, 100, 20000))
	c.ChunkOverlap = int(intSetting("RAGQ_CHUNK_OVERLAP", 150, 0, 10000))
	c.QueryTimeout = durSetting("RAGQ_QUERY_TIMEOUT", 30*time.Second)
	c.ShutdownTimeout = durSetting("RAGQ_SHUTDOWN_TIMEOUT", 30*time.Second)
	c.PDFTimeout = durSetting("RAGQ_PDF_TIMEOUT", 2*time.Minute)
	c.PDFMaxMemory = intSetting("RAGQ_PDF_MAX_MEMORY_BYTES", 512<<20, 64<<20, 1<<40)
	c.PDFMaxPages = int(intSetting("RAGQ_PDF_MAX_PAGES", 20000, 1, 10_000_000))
	c.PDFParallelism = int(intSetting("RAGQ_PDF_PARALLELISM", 2, 1, 64))

	c.CrawlMaxPages = int(intSetting("RAGQ_CRAWL_MAX_PAGES", 500, 1, 100000))
	c.CrawlMaxDepth = int(intSetting("RAGQ_CRAWL_MAX_DEPTH", 3, 0, 100))
	c.CrawlMinRefresh = durSetting("RAGQ_CRAWL_MIN_REFRESH", time.Hour)
	c.QueryMaxURLs = int(intSetting("RAGQ_QUERY_MAX_URLS", 3, 0, 20))
	c.EventsTTL = durSetting("RAGQ_EVENTS_TTL", 24*time.Hour)
	c.EventsMaxLen = intSetting("RAGQ_EVENTS_MAXLEN", 10000, 100, 10_000_000)
	c.SSEHeartbeat = durSetting("RAGQ_SSE_HEARTBEAT", 15*time.Second)
	// Idle workers poll: with Redis, 5 ms keeps a new question's pickup
	// within a few milliseconds for about 200 cheap script calls a second;
	// the in-process Redis runs its scripts on this process's CPU, so it
	// polls less often (5 ms would cost about a tenth of a core idle).
	defPoll := 5 * time.Millisecond
	if c.RedisURL == "" {
		defPoll = 50 * time.Millisecond
	}
	c.WorkerPoll = durSetting("RAGQ_WORKER_POLL_INTERVAL", defPoll)
	c.CacheTTL = durSetting("RAGQ_CACHE_TTL", 24*time.Hour)
	c.CacheMaxEntries = int(intSetting("RAGQ_CACHE_MAX_ENTRIES", 1000, 0, 1_000_000))
	sim := get("RAGQ_CACHE_SIMILARITY", "0.95")
	var err error
	if c.CacheSimilarity, err = strconv.ParseFloat(sim, 64); err != nil || c.CacheSimilarity <= 0 || c.CacheSimilarity > 1 {
		bad("RAGQ_CACHE_SIMILARITY", "%q is not a number above 0 and at most 1, such as 0.95", sim)
		c.CacheSimilarity = 0.95
	}
	if cidrs, err := web.ParseAllowCIDRs(get("RAGQ_FETCH_ALLOW_CIDRS", "")); err != nil {
		bad("RAGQ_FETCH_ALLOW_CIDRS", "%s (expected ranges such as 127.0.0.0/8, ::1)", ragqueue.ErrorMessage(err))
	} else {
		c.FetchAllowCIDRs = cidrs
	}
	for _, f := range strings.FieldsFunc(get("RAGQ_FETCH_ALLOWED_PORTS", "80,443"), func(r rune) bool { return r == ',' || r == ' ' }) {
		p, err := strconv.ParseUint(f, 10, 16)
		if err != nil || p == 0 {
			bad("RAGQ_FETCH_ALLOWED_PORTS", "%q is not a port from 1 to 65535 (expected a list such as 80,443)", f)
			continue
		}
		c.FetchAllowedPorts = append(c.FetchAllowedPorts, uint16(p))
	}

	c.MetricsAddr = get("RAGQ_METRICS_ADDR", "")
	c.RateLimitRPS = int(intSetting("RAGQ_RATE_LIMIT_RPS", 20, 0, 1_000_000))
	c.RateLimitBurst = int(intSetting("RAGQ_RATE_LIMIT_BURST", 40, 1, 1_000_000))
	c.RateLimitExpensiveRPM = int(intSetting("RAGQ_RATE_LIMIT_EXPENSIVE_RPM", 30, 0, 1_000_000))
	c.TenantDailyTokens = intSetting("RAGQ_TENANT_DAILY_TOKENS", 0, 0, 1<<50)
	c.HTTPReadTimeout = durSetting("RAGQ_HTTP_READ_TIMEOUT", 10*time.Minute)
	c.SessionSecret = get("RAGQ_SESSION_SECRET", "")
	if c.SessionSecret != "" && len(c.SessionSecret) < 32 {
		bad("RAGQ_SESSION_SECRET", "is %d characters; use at least 32 random characters", len(c.SessionSecret))
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("RAGQ_METRICS_ADDR", "%q is not host:port (for example 127.0.0.1:9090)", c.MetricsAddr)
		} else if c.MetricsAddr == c.Addr && port != "0" {
			bad("RAGQ_METRICS_ADDR", "%q is RAGQ_ADDR; use another port, or leave it empty to serve /metrics there to admin keys", c.MetricsAddr)
		}
	}
	for _, o := range strings.FieldsFunc(get("RAGQ_CORS_ORIGINS", ""), func(r rune) bool { return r == ',' || r == ' ' }) {
		if err := checkOrigin(o); err != nil {
			bad("RAGQ_CORS_ORIGINS", "%q %v", o, err)
			continue
		}
		c.CORSOrigins = append(c.CORSOrigins, strings.TrimSuffix(o, "/"))
	}

	switch s := strings.ToLower(get("RAGQ_RUN_WORKERS", "false")); s {
	case "1", "true", "yes":
		c.RunWorkers = true
	case "0", "false", "no":
	default:
		bad("RAGQ_RUN_WORKERS", "%q is not true or false", s)
	}
	if c.Embedded() {
		c.RunWorkers = true // nothing else would run the jobs
	}

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("RAGQ_ADDR", "%q is not host:port (for example :8080 or 127.0.0.1:8080)", c.Addr)
	}
	if c.ChunkOverlap >= c.ChunkSize {
		bad("RAGQ_CHUNK_OVERLAP", "%d must be smaller than RAGQ_CHUNK_SIZE (%d)", c.ChunkOverlap, c.ChunkSize)
	}
	if c.AdminKey != "" && len(c.AdminKey) < 24 {
		bad("RAGQ_ADMIN_KEY", "is %d characters; use at least 24 random characters", len(c.AdminKey))
	}
	if c.RedisURL != "" {
		if _, err := asynq.ParseRedisURI(c.RedisURL); err != nil {
			bad("RAGQ_REDIS_URL", "%v (expected redis://[:password@]host[:port][/db])", err)
		}
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		bad("RAGQ_DATABASE_URL", "only postgres:// URLs are supported; leave it empty for SQLite in RAGQ_DATA_DIR")
	}
	if c.QdrantURL != "" {
		if _, err := qdrant.ConfigFromURL(c.QdrantURL, c.QdrantAPIKey); err != nil {
			bad("RAGQ_QDRANT_URL", "%s (expected the gRPC address, e.g. http://127.0.0.1:6334)", ragqueue.ErrorMessage(err))
		}
	}
	if err := CheckEmbedder(c.Embedder); err != nil {
		bad("RAGQ_EMBEDDER", "%s", ragqueue.ErrorMessage(err))
	}
	c.Providers = loadProviderEnv(get)
	if strings.ToLower(c.LLM) != "extractive" {
		if _, _, err := provider.ParseGeneratorSpec(c.LLM); err != nil {
			bad("RAGQ_LLM", "%s; or extractive (no model)", ragqueue.ErrorMessage(err))
		}
	}
	c.LLMMaxContextTokens = int(intSetting("RAGQ_LLM_MAX_CONTEXT_TOKENS", 3000, 100, 1_000_000))
	c.LLMMaxOutputTokens = int(intSetting("RAGQ_LLM_MAX_OUTPUT_TOKENS", 1024, 16, 200_000))
	if ws := get("RAGQ_WEBHOOK_SECRET", ""); ws != "" {
		if len(ws) < 16 {
			bad("RAGQ_WEBHOOK_SECRET", "is %d characters; use at least 16 random characters", len(ws))
		}
		c.WebhookSecret = []byte(ws)
	}
	if lvl, err := parseLevel(get("RAGQ_LOG_LEVEL", "info")); err != nil {
		bad("RAGQ_LOG_LEVEL", "%v", err)
	} else {
		c.LogLevel = lvl
	}
	switch c.LogFormat {
	case "auto", "json", "text":
	default:
		bad("RAGQ_LOG_FORMAT", "%q is not auto, json or text", c.LogFormat)
	}
	if len(errs) > 0 {
		return Config{}, fmt.Errorf("invalid configuration: %w", errors.Join(errs...))
	}
	return c, nil
}

// checkOrigin accepts "*" or a bare origin such as https://app.example.com
// (scheme, host and optional port; no path, query or credentials).
func checkOrigin(o string) error {
	if o == "*" {
		return nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || strings.TrimSuffix(u.Path, "/") != "" || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("is not an origin such as https://app.example.com, or *")
	}
	return nil
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}
