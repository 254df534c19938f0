package web

import (
	"context"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/stretchr/testify/require"
)

// pgDocs is Debian's copy of the PostgreSQL 15 manual (about 1,170 HTML
// pages): apt-get install -y postgresql-doc-15.
const pgDocs = "/usr/share/doc/postgresql-doc-15/html"

// benchParallelism is the per-host parallelism of both crawlers.
const benchParallelism = 4

// BenchmarkCrawl crawls a local copy of a real documentation site with
// Crawl (guarded client, robots.txt, decoded-size cap, readability and
// parsing of every page) and, in the same run, with a bare colly collector
// that only fetches and follows links; it reports both rates and their
// ratio.
func BenchmarkCrawl(b *testing.B) {
	if _, err := os.Stat(pgDocs); err != nil {
		b.Skipf("%s is missing (apt-get install -y postgresql-doc-15)", pgDocs)
	}
	_, p := serve(b, "127.0.0.1", http.FileServer(http.Dir(pgDocs)))
	seed := urlOf("127.0.0.1", p, "/")
	f := testFetcher(FetchOptions{}, p)
	ctx := context.Background()

	var ours, raw time.Duration
	var oursPages, rawPages int
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		stats, err := Crawl(ctx, nil, f, CrawlRequest{Seeds: []string{seed}, MaxDepth: 100, MaxPages: 5000, Parallelism: benchParallelism},
			func(Page) error { return nil }, nil)
		ours += time.Since(start)
		require.NoError(b, err)
		require.GreaterOrEqual(b, stats.Fetched, 1000, "%+v", stats)
		oursPages += stats.Fetched

		start = time.Now()
		n := rawColly(b, seed)
		raw += time.Since(start)
		rawPages += n
	}
	b.StopTimer()
	oursRate := float64(oursPages) / ours.Seconds()
	rawRate := float64(rawPages) / raw.Seconds()
	b.ReportMetric(oursRate, "pages/s")
	b.ReportMetric(rawRate, "raw-colly-pages/s")
	b.ReportMetric(oursRate/rawRate, "ratio")
	b.ReportMetric(float64(oursPages)/float64(b.N), "pages")
}

// rawColly crawls from seed with a bare asynchronous colly collector (its
// default transport, goquery link extraction, nothing else) and returns
// the pages fetched.
func rawColly(b *testing.B, seed string) int {
	c := colly.NewCollector(colly.Async(true), colly.AllowedDomains("127.0.0.1"))
	require.NoError(b, c.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: benchParallelism}))
	var n atomic.Int64
	c.OnResponse(func(*colly.Response) { n.Add(1) })
	c.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	require.NoError(b, c.Visit(seed))
	c.Wait()
	return int(n.Load())
}
