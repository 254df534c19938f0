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
)

// Config is ragqueue's configuration. Every field comes from a RAGQ_*
// environment variable; LoadConfig documents the names and defaults.
type Config struct {
	Addr              string         // RAGQ_ADDR
	DataDir           string         // RAGQ_DATA_DIR
	AdminKey          string         // RAGQ_ADMIN_KEY
	RedisURL          string         // RAGQ_REDIS_URL; "" → embedded (in-process miniredis)
	DatabaseURL       string         // RAGQ_DATABASE_URL; "" → SQLite in DataDir
	QdrantURL         string         // RAGQ_QDRANT_URL; "" → embedded index
	Embedder          string         // RAGQ_EMBEDDER
	LLM               string         // RAGQ_LLM
	WorkerConcurrency int            // RAGQ_WORKER_CONCURRENCY
	RunWorkers        bool           // RAGQ_RUN_WORKERS: api also runs workers (always true when embedded)
	MaxUploadBytes    int64          // RAGQ_MAX_UPLOAD_BYTES
	ChunkSize         int            // RAGQ_CHUNK_SIZE
	ChunkOverlap      int            // RAGQ_CHUNK_OVERLAP
	QueryTimeout      time.Duration  // RAGQ_QUERY_TIMEOUT: how long a sync query waits
	ShutdownTimeout   time.Duration  // RAGQ_SHUTDOWN_TIMEOUT
	LogLevel          slog.Level     // RAGQ_LOG_LEVEL
	LogFormat         string         // RAGQ_LOG_FORMAT: auto, json or text
	PDFTimeout        time.Duration  // RAGQ_PDF_TIMEOUT
	PDFMaxMemory      int64          // RAGQ_PDF_MAX_MEMORY_BYTES
	PDFMaxPages       int            // RAGQ_PDF_MAX_PAGES
	PDFParallelism    int            // RAGQ_PDF_PARALLELISM
	FetchAllowCIDRs   []netip.Prefix // RAGQ_FETCH_ALLOW_CIDRS: private ranges fetching may reach
	FetchAllowedPorts []uint16       // RAGQ_FETCH_ALLOWED_PORTS
	CrawlMaxPages     int            // RAGQ_CRAWL_MAX_PAGES: cap on a crawl's max_pages
	CrawlMaxDepth     int            // RAGQ_CRAWL_MAX_DEPTH: cap on a crawl's max_depth
	CrawlMinRefresh   time.Duration  // RAGQ_CRAWL_MIN_REFRESH: shortest refresh interval a crawl may ask for
	QueryMaxURLs      int            // RAGQ_QUERY_MAX_URLS: URLs fetched per question
	EventsTTL         time.Duration  // RAGQ_EVENTS_TTL: how long a job's event stream outlives its last event
	EventsMaxLen      int64          // RAGQ_EVENTS_MAXLEN: approximate cap on one job's event stream
	SSEHeartbeat      time.Duration  // RAGQ_SSE_HEARTBEAT: comment line interval on idle SSE streams
	WorkerPoll        time.Duration  // RAGQ_WORKER_POLL_INTERVAL: how often an idle worker looks for new tasks
	WebhookSecret     string         // RAGQ_WEBHOOK_SECRET: signs callback_url POSTs; "" refuses callback_url

	// Derived by LoadConfig.
	EmbedderDim int
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
		{"RAGQ_DATA_DIR", "./data", "SQLite files and uploaded bytes"},
		{"RAGQ_ADMIN_KEY", "(generated)", "admin API key for tenant \"default\" (≥ 24 characters); generated and printed on first start when unset"},
		{"RAGQ_REDIS_URL", "(empty: embedded)", "Redis for Asynq, e.g. redis://127.0.0.1:6379/0; empty runs an in-process Redis"},
		{"RAGQ_DATABASE_URL", "(empty: SQLite)", "metadata database, e.g. postgres://user:pass@host:5432/db; empty uses SQLite in the data dir"},
		{"RAGQ_QDRANT_URL", "(empty: embedded)", "Qdrant gRPC address; empty uses the embedded SQLite index (Qdrant support is not built yet)"},
		{"RAGQ_EMBEDDER", "hash", "embedder: hash or hash:DIM (feature hashing, no model)"},
		{"RAGQ_LLM", "extractive", "answer generator: extractive (no model)"},
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
		{"RAGQ_EVENTS_TTL", "24h", "how long a job's event stream (SSE/WebSocket replay) is kept after its last event"},
		{"RAGQ_EVENTS_MAXLEN", "10000", "approximate most events kept per job stream"},
		{"RAGQ_SSE_HEARTBEAT", "15s", "interval of the comment heartbeat on idle SSE and WebSocket streams"},
		{"RAGQ_WEBHOOK_SECRET", "(empty: no webhooks)", "HMAC-SHA256 key signing callback_url POSTs (≥ 24 characters); callback_url is refused without it"},
		{"RAGQ_WORKER_POLL_INTERVAL", "200ms", "how often an idle worker looks at empty queues; bounds the pickup delay of a new job (each poll is one Redis script call)"},
		{"RAGQ_LOG_LEVEL", "info", "debug, info, warn or error"},
		{"RAGQ_LOG_FORMAT", "auto", "json, text, or auto (text on a terminal, else JSON)"},
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
		Addr:        get("RAGQ_ADDR", ":8080"),
		DataDir:     get("RAGQ_DATA_DIR", "./data"),
		AdminKey:    get("RAGQ_ADMIN_KEY", ""),
		RedisURL:    get("RAGQ_REDIS_URL", ""),
		DatabaseURL: get("RAGQ_DATABASE_URL", ""),
		QdrantURL:   get("RAGQ_QDRANT_URL", ""),
		Embedder:    get("RAGQ_EMBEDDER", "hash"),
		LLM:         get("RAGQ_LLM", "extractive"),
		LogFormat:   get("RAGQ_LOG_FORMAT", "auto"),
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
	c.WorkerPoll = durSetting("RAGQ_WORKER_POLL_INTERVAL", 200*time.Millisecond)
	if c.WebhookSecret = get("RAGQ_WEBHOOK_SECRET", ""); c.WebhookSecret != "" && len(c.WebhookSecret) < 24 {
		bad("RAGQ_WEBHOOK_SECRET", "is %d characters; use at least 24 random characters", len(c.WebhookSecret))
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
		bad("RAGQ_QDRANT_URL", "the Qdrant index is not built yet; leave it empty to use the embedded index")
	}
	if d, err := hashDim(c.Embedder); err != nil {
		bad("RAGQ_EMBEDDER", "%s", ragqueue.ErrorMessage(err))
	} else {
		c.EmbedderDim = d
	}
	if strings.ToLower(c.LLM) != "extractive" {
		bad("RAGQ_LLM", "%q is not available; supported: extractive (LLM providers come with the answers issue)", c.LLM)
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

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("%q is not debug, info, warn or error", s)
	}
	return l, nil
}
