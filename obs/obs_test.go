package obs_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/obs"
)

func TestPipelineRegistersEveryFigure(t *testing.T) {
	t.Parallel()
	reg := obs.NewRegistry()
	p := obs.NewPipeline(reg)
	p.PagesParsed.Add(3)
	p.ChunksEmbedded.Add(12)
	p.CrawlPagesFetched.Inc()
	p.CrawlPagesBlocked.Inc()
	p.CacheHits.Inc()
	p.CacheMisses.Inc()
	p.TokensUsed.Add(250)
	p.EmbedSeconds.Observe(0.02)
	p.GenerateSeconds.Observe(1.5)

	require.Equal(t, 3.0, testutil.ToFloat64(p.PagesParsed))
	require.Equal(t, 250.0, testutil.ToFloat64(p.TokensUsed))
	names := map[string]bool{}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		names[mf.GetName()] = true
	}
	for _, want := range []string{
		"ragqueue_pipeline_pages_parsed_total", "ragqueue_pipeline_chunks_embedded_total",
		"ragqueue_pipeline_crawl_pages_fetched_total", "ragqueue_pipeline_crawl_pages_blocked_total",
		"ragqueue_pipeline_cache_hits_total", "ragqueue_pipeline_cache_misses_total",
		"ragqueue_pipeline_llm_tokens_total", "ragqueue_pipeline_embed_seconds",
		"ragqueue_pipeline_generate_seconds", "go_goroutines",
	} {
		require.True(t, names[want], "missing %s", want)
	}
}

func TestPipelineWithoutRegistry(t *testing.T) {
	t.Parallel()
	// Two unexported pipelines do not collide, and both count.
	a, b := obs.NewPipeline(nil), obs.NewPipeline(nil)
	a.ChunksEmbedded.Inc()
	require.Equal(t, 1.0, testutil.ToFloat64(a.ChunksEmbedded))
	require.Equal(t, 0.0, testutil.ToFloat64(b.ChunksEmbedded))
}

func TestHTTPLabels(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	h := obs.NewHTTP(reg)
	h.Start("GET")("/v1/documents/:id", 200)
	h.Start("GET")("/v1/documents/:id", 200)
	h.Start("POST")("", 404)
	h.Start("BREW")("/v1/search", 405)

	want := `
# HELP ragqueue_http_requests_total HTTP requests answered, by method, route template and status.
# TYPE ragqueue_http_requests_total counter
ragqueue_http_requests_total{method="GET",route="/v1/documents/:id",status="200"} 2
ragqueue_http_requests_total{method="OTHER",route="/v1/search",status="405"} 1
ragqueue_http_requests_total{method="POST",route="unmatched",status="404"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "ragqueue_http_requests_total"))
	n, err := testutil.GatherAndCount(reg, "ragqueue_http_request_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, 3, n)

	// In flight counts requests started and not yet answered.
	done := h.Start("GET")
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(inFlight(1)), "ragqueue_http_requests_in_flight"))
	done("/v1/search", 200)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(inFlight(0)), "ragqueue_http_requests_in_flight"))
}

// inFlight is the exposition of the in-flight gauge at n.
func inFlight(n int) string {
	return fmt.Sprintf(`
# HELP ragqueue_http_requests_in_flight HTTP requests being served.
# TYPE ragqueue_http_requests_in_flight gauge
ragqueue_http_requests_in_flight %d
`, n)
}
