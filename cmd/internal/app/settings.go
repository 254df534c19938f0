package app

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
