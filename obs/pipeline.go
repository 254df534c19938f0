package obs

import "github.com/prometheus/client_golang/prometheus"

// Pipeline is the figures of the ingest and retrieval pipeline, for the
// jobs to record as they work. Every field is safe for concurrent use.
// Labels are deliberately absent: tenants and documents would make the
// series unbounded.
type Pipeline struct {
	// PagesParsed counts pages of text extracted from documents (a text
	// or HTML document counts as one page).
	PagesParsed prometheus.Counter
	// ChunksEmbedded counts chunks turned into vectors and indexed.
	ChunksEmbedded prometheus.Counter
	// CrawlPagesFetched counts pages a crawl or a question fetched.
	CrawlPagesFetched prometheus.Counter
	// CrawlPagesBlocked counts fetches refused by robots.txt, the SSRF
	// guard or the crawl's scope.
	CrawlPagesBlocked prometheus.Counter
	// CacheHits counts answers or embeddings served from a cache.
	CacheHits prometheus.Counter
	// CacheMisses counts cache look-ups that found nothing.
	CacheMisses prometheus.Counter
	// TokensUsed counts LLM tokens, prompt and completion together.
	TokensUsed prometheus.Counter
	// EmbedSeconds observes how long one embedding call (one batch) took.
	EmbedSeconds prometheus.Histogram
	// GenerateSeconds observes how long one answer generation took.
	GenerateSeconds prometheus.Histogram
}

// NewPipeline makes the pipeline metrics and registers them on reg. A nil
// reg gives working metrics that are not exported (for tests).
func NewPipeline(reg prometheus.Registerer) *Pipeline {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: Namespace, Subsystem: "pipeline", Name: name, Help: help})
	}
	histogram := func(name, help string, buckets []float64) prometheus.Histogram {
		return prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: Namespace, Subsystem: "pipeline", Name: name, Help: help, Buckets: buckets})
	}
	p := &Pipeline{
		PagesParsed:       counter("pages_parsed_total", "Pages of text extracted from documents."),
		ChunksEmbedded:    counter("chunks_embedded_total", "Chunks embedded and indexed."),
		CrawlPagesFetched: counter("crawl_pages_fetched_total", "Web pages fetched by crawls and questions."),
		CrawlPagesBlocked: counter("crawl_pages_blocked_total", "Web fetches refused by robots.txt, the SSRF guard or the crawl scope."),
		CacheHits:         counter("cache_hits_total", "Look-ups answered from a cache."),
		CacheMisses:       counter("cache_misses_total", "Cache look-ups that found nothing."),
		TokensUsed:        counter("llm_tokens_total", "LLM tokens used, prompt and completion."),
		EmbedSeconds: histogram("embed_seconds", "Duration of one embedding call.",
			prometheus.ExponentialBuckets(0.005, 2.5, 10)),
		GenerateSeconds: histogram("generate_seconds", "Duration of one answer generation.",
			prometheus.ExponentialBuckets(0.05, 2.5, 10)),
	}
	register(reg, p.PagesParsed, p.ChunksEmbedded, p.CrawlPagesFetched, p.CrawlPagesBlocked,
		p.CacheHits, p.CacheMisses, p.TokensUsed, p.EmbedSeconds, p.GenerateSeconds)
	return p
}
