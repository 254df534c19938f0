package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/stretchr/testify/require"
)

// pgDocs is Debian's copy of the PostgreSQL 15 manual (about 1,170 HTML
// pages): apt-get install -y postgresql-doc-15.
const pgDocs = "/usr/share/doc/postgresql-doc-15/html"

// rawCollyParallelism is the per-host parallelism of the bare colly
// collector, as in ingest/web's BenchmarkCrawl.
const rawCollyParallelism = 4

// BenchmarkCrawlIngest measures pages/s from POST /v1/crawls to every page
// searchable (its document ready) on a loopback copy of a real
// documentation site, and in the same run the fetch rate of a bare colly
// collector over the same site. Run with -benchtime=1x: each iteration is
// the whole site. cpu-us/page and raw-cpu-us/page are the process's CPU
// time per page during each (steadier than rates on a shared machine).
func BenchmarkCrawlIngest(b *testing.B) {
	if _, err := os.Stat(pgDocs); err != nil {
		b.Skipf("%s is missing (apt-get install -y postgresql-doc-15)", pgDocs)
	}
	site := httptest.NewServer(http.FileServer(http.Dir(pgDocs)))
	b.Cleanup(site.Close)
	port := strconv.Itoa(site.Listener.Addr().(*net.TCPAddr).Port)
	tb := setup(b, map[string]string{
		"RAGQ_FETCH_ALLOW_CIDRS": "127.0.0.0/8", "RAGQ_FETCH_ALLOWED_PORTS": port,
		"RAGQ_CRAWL_MAX_PAGES": "5000", "RAGQ_CRAWL_MAX_DEPTH": "100", "RAGQ_LOG_LEVEL": "error",
	})
	seed := site.URL + "/"

	var ours, raw, oursCPU, rawCPU time.Duration
	var oursPages, rawPages int
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start, cpu := time.Now(), cpuTime(b)
		c := crawlPushed(b, tb, testAdminKey, map[string]any{"urls": []string{seed}, "max_depth": 100, "max_pages": 5000})
		require.Equal(b, "succeeded", c.Status)
		b.Logf("crawl done after %s", time.Since(start))
		waitAllReady(b, tb, c.Documents)
		ours += time.Since(start)
		oursCPU += cpuTime(b) - cpu
		require.GreaterOrEqual(b, c.PagesFetched, 1000, "%+v", c.PagesFetched)
		oursPages += c.PagesFetched

		start, cpu = time.Now(), cpuTime(b)
		rawPages += rawColly(b, seed)
		raw += time.Since(start)
		rawCPU += cpuTime(b) - cpu
	}
	b.StopTimer()
	oursRate := float64(oursPages) / ours.Seconds()
	rawRate := float64(rawPages) / raw.Seconds()
	b.ReportMetric(oursRate, "pages/s")
	b.ReportMetric(rawRate, "raw-colly-pages/s")
	b.ReportMetric(oursRate/rawRate, "ratio")
	b.ReportMetric(float64(oursPages)/float64(b.N), "pages")
	b.ReportMetric(float64(oursCPU.Microseconds())/float64(oursPages), "cpu-us/page")
	b.ReportMetric(float64(rawCPU.Microseconds())/float64(rawPages), "raw-cpu-us/page")
}

// crawlPushed starts a crawl and waits for its job's done event over SSE,
// as a client that does not poll would: polling the crawl record (its
// document list grows to the whole site) costs the process CPU the crawl
// would otherwise have.
func crawlPushed(b *testing.B, tb *testBundle, key string, req map[string]any) crawlResp {
	var started struct {
		CrawlID string `json:"crawl_id"`
		JobID   string `json:"job_id"`
	}
	require.Equal(b, http.StatusAccepted, tb.doJSON(b, http.MethodPost, "/v1/crawls", key, req, &started))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	events := (&eventsBundle{testBundle: tb}).openSSE(b, ctx, http.MethodGet, "/v1/jobs/"+started.JobID+"/events", key, "", nil)
	events.untilDone(b)
	var c crawlResp
	require.Equal(b, http.StatusOK, tb.do(b, http.MethodGet, "/v1/crawls/"+started.CrawlID, key, nil, "", &c))
	return c
}

// cpuTime is the CPU time the process has used so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	require.NoError(b, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
}

// rawColly crawls from seed with a bare asynchronous colly collector (its
// default transport, goquery link extraction, nothing else) and returns
// the pages fetched. It is ingest/web's baseline, copied: test helpers do
// not cross packages.
func rawColly(b *testing.B, seed string) int {
	c := colly.NewCollector(colly.Async(true), colly.AllowedDomains("127.0.0.1"))
	require.NoError(b, c.Limit(&colly.LimitRule{DomainGlob: "*", Parallelism: rawCollyParallelism}))
	var n atomic.Int64
	c.OnResponse(func(*colly.Response) { n.Add(1) })
	c.OnHTML("a[href]", func(e *colly.HTMLElement) { e.Request.Visit(e.Attr("href")) })
	require.NoError(b, c.Visit(seed))
	c.Wait()
	return int(n.Load())
}
