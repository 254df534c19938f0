package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
	"github.com/ragqueue/ragqueue/jobs/keys"
)

// site is a small loopback web site whose pages a test can change.
type site struct {
	srv   *httptest.Server
	mu    sync.Mutex
	pages map[string]string
}

func newSite(t *testing.T) *site {
	t.Helper()
	s := &site{pages: map[string]string{
		"/robots.txt": "User-agent: *\nDisallow: /secret\n",
		"/":           page("Garden index", `Welcome to the garden. <a href="/tomatoes">t</a> <a href="/basil">b</a> <a href="/carrots">c</a> <a href="/peppers">p</a> <a href="/secret">s</a>`),
		"/tomatoes":   page("Tomatoes", "Tomatoes need six hours of direct sunlight a day."),
		"/basil":      page("Basil", "Basil grows best in warm soil; pinch off the flowers."),
		"/carrots":    page("Carrots", "Carrots want loose sandy soil free of stones."),
		"/peppers":    page("Peppers", "Peppers ripen from green to red in the late summer heat."),
		"/secret":     page("Secret", "The zebrafruit password is hidden here."),
	}}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		body, ok := s.pages[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch {
		case r.URL.Path == "/robots.txt":
			w.Header().Set("Content-Type", "text/plain")
		case strings.HasSuffix(r.URL.Path, ".pdf"):
			w.Header().Set("Content-Type", "application/pdf")
		default:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *site) set(path, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pages[path] = body
}

func (s *site) port() string {
	return s.srv.Listener.Addr().(*net.TCPAddr).AddrPort().String()[len("127.0.0.1:"):]
}

func (s *site) url(path string) string { return s.srv.URL + path }

func page(title, body string) string {
	return "<!doctype html><html><head><title>" + title + "</title></head><body><main><h1>" + title +
		"</h1><p>" + body + "</p></main></body></html>"
}

// crawlResp is GET /v1/crawls/{id}.
type crawlResp struct {
	ID           string   `json:"id"`
	JobID        string   `json:"job_id"`
	Status       string   `json:"status"`
	PagesFetched int      `json:"pages_fetched"`
	PagesFailed  int      `json:"pages_failed"`
	PagesBlocked int      `json:"pages_blocked"`
	Documents    []string `json:"documents"`
	Errors       []struct {
		URL   string `json:"url"`
		Error string `json:"error"`
	} `json:"errors"`
}

// crawl starts a crawl and waits for it to finish.
func (b *testBundle) crawl(t testing.TB, key string, req map[string]any) crawlResp {
	t.Helper()
	var started struct {
		CrawlID string `json:"crawl_id"`
		JobID   string `json:"job_id"`
	}
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/crawls", key, req, &started))
	require.NotEmpty(t, started.CrawlID)
	c := b.waitCrawl(t, key, started.CrawlID)
	require.Equal(t, started.JobID, c.JobID)
	return c
}

// waitCrawl polls a crawl until it has succeeded or failed.
func (b *testBundle) waitCrawl(t testing.TB, key, id string) crawlResp {
	t.Helper()
	var c crawlResp
	require.Eventually(t, func() bool {
		c = crawlResp{}
		code := b.do(t, http.MethodGet, "/v1/crawls/"+id, key, nil, "", &c)
		return code == http.StatusOK && (c.Status == "succeeded" || c.Status == "failed")
	}, 60*time.Second, 20*time.Millisecond, "crawl %s never finished", id)
	return c
}

func fetchEnv(allowCIDRs string, ports ...string) map[string]string {
	return map[string]string{"RAGQ_FETCH_ALLOW_CIDRS": allowCIDRs, "RAGQ_FETCH_ALLOWED_PORTS": strings.Join(append([]string{"80", "443"}, ports...), ",")}
}

func TestCrawlEndToEnd(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := setup(t, fetchEnv("127.0.0.0/8", s.port()))
	writer := b.newKey(t, "garden", "writer")

	c := b.crawl(t, writer, map[string]any{"urls": []string{s.url("/")}, "max_depth": 1, "max_pages": 20})
	require.Equal(t, "succeeded", c.Status)
	require.Equal(t, 5, c.PagesFetched, "%+v", c)
	require.Len(t, c.Documents, 5)
	docs := map[string]docResp{}
	for _, id := range c.Documents {
		d := b.waitStatus(t, writer, id)
		require.Equal(t, "ready", d.Status, d.Error)
		docs[d.Source] = d
	}
	require.Contains(t, docs, s.url("/tomatoes"))
	require.NotContains(t, docs, s.url("/secret"), "robots.txt disallows it")
	require.Equal(t, "Tomatoes", docs[s.url("/tomatoes")].Title)

	var res struct {
		Results []struct {
			Source string `json:"source"`
			Text   string `json:"text"`
		} `json:"results"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q="+url.QueryEscape("tomatoes sunlight")+"&top_k=3", writer, nil, "", &res))
	require.NotEmpty(t, res.Results)
	require.Equal(t, s.url("/tomatoes"), res.Results[0].Source)
	res.Results = nil
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q=zebrafruit+password", writer, nil, "", &res))
	for _, r := range res.Results {
		require.NotContains(t, r.Text, "zebrafruit")
	}

	// Re-crawl after one page changed: only that page gets a new version.
	s.set("/basil", page("Basil", "Basil grows best in warm soil and full sun; water it in the morning."))
	c2 := b.crawl(t, writer, map[string]any{"urls": []string{s.url("/")}, "max_depth": 1, "max_pages": 20})
	require.Equal(t, 5, c2.PagesFetched)
	require.ElementsMatch(t, c.Documents, c2.Documents, "pages are deduplicated by URL")
	for _, id := range c2.Documents {
		d := b.waitStatus(t, writer, id)
		want := docs[d.Source].Version
		if d.Source == s.url("/basil") {
			want++
		}
		require.Equal(t, want, d.Version, d.Source)
	}

	// Another tenant cannot see the crawl.
	other := b.newKey(t, "elsewhere", "reader")
	require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, "/v1/crawls/"+c.ID, other, nil, "", nil))
	reader := b.newKey(t, "garden", "reader")
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/crawls/"+c.ID, reader, nil, "", nil))
	require.Equal(t, http.StatusForbidden, b.doJSON(t, http.MethodPost, "/v1/crawls", reader, map[string]any{"urls": []string{s.url("/")}}, nil))
}

func TestCrawlBlockedWithoutAllowList(t *testing.T) {
	t.Parallel()
	canary, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = canary.Close() })
	var accepted atomic.Int64
	go func() {
		for {
			conn, err := canary.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			_ = conn.Close()
		}
	}()
	port := fmt.Sprint(canary.Addr().(*net.TCPAddr).Port)
	b := setup(t, fetchEnv("", port))
	target := "http://127.0.0.1:" + port + "/"

	c := b.crawl(t, testAdminKey, map[string]any{"urls": []string{target}})
	require.Equal(t, "succeeded", c.Status)
	require.Zero(t, c.PagesFetched)
	require.Equal(t, 1, c.PagesBlocked)
	require.Len(t, c.Errors, 1)
	require.Equal(t, target, c.Errors[0].URL)
	require.Contains(t, c.Errors[0].Error, "RAGQ_FETCH_ALLOW_CIDRS")
	require.Empty(t, c.Documents)

	// A question naming the same URL still answers, saying what it could not fetch.
	var ans struct {
		Answer      string `json:"answer"`
		FetchErrors []struct {
			URL   string `json:"url"`
			Error string `json:"error"`
		} `json:"fetch_errors"`
	}
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey,
		map[string]any{"question": "What is on " + target + " ?"}, &ans))
	require.Len(t, ans.FetchErrors, 1)
	require.Equal(t, target, ans.FetchErrors[0].URL)
	require.Contains(t, ans.FetchErrors[0].Error, "refused")
	require.Zero(t, accepted.Load(), "the guard must refuse before connecting")
}

func TestQueryTalksToTheWeb(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := setup(t, fetchEnv("127.0.0.0/8", s.port()))
	var ans struct {
		Answer    string `json:"answer"`
		Citations []struct {
			Source string `json:"source"`
		} `json:"citations"`
		FetchErrors []any `json:"fetch_errors"`
	}
	q := "How many hours of sunlight do tomatoes need, according to " + s.url("/tomatoes") + "?"
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey, map[string]any{"question": q}, &ans))
	require.Empty(t, ans.FetchErrors)
	require.NotEmpty(t, ans.Citations, ans.Answer)
	require.Equal(t, s.url("/tomatoes"), ans.Citations[0].Source)
	require.Contains(t, ans.Answer, "six hours")

	// Asked again, the page is not stored twice.
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey,
		map[string]any{"question": "Which soil does basil like?", "urls": []string{s.url("/basil")}}, &ans))
	require.Equal(t, s.url("/basil"), ans.Citations[0].Source)
	var list struct {
		Documents []docResp `json:"documents"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents", testAdminKey, nil, "", &list))
	require.Len(t, list.Documents, 2)
}

func TestCrawlValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"RAGQ_CRAWL_MAX_PAGES": "50", "RAGQ_CRAWL_MAX_DEPTH": "2", "RAGQ_QUERY_MAX_URLS": "1"})
	tests := []struct {
		name string
		path string
		body map[string]any
		want string
	}{
		{"no urls", "/v1/crawls", map[string]any{}, "urls is required"},
		{"not http", "/v1/crawls", map[string]any{"urls": []string{"ftp://example.com/"}}, "not an absolute http or https URL"},
		{"too many pages", "/v1/crawls", map[string]any{"urls": []string{"https://example.com/"}, "max_pages": 51}, "RAGQ_CRAWL_MAX_PAGES"},
		{"too deep", "/v1/crawls", map[string]any{"urls": []string{"https://example.com/"}, "max_depth": 3}, "from 0 to 2"},
		{"bad host", "/v1/crawls", map[string]any{"urls": []string{"https://example.com/"}, "allowed_hosts": []string{"http://x/"}}, "allowed_hosts"},
		{"too many question urls", "/v1/queries", map[string]any{"question": "compare https://a.example/ and https://b.example/"}, "RAGQ_QUERY_MAX_URLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e errorBody
			require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, tt.path, testAdminKey, tt.body, &e))
			require.Equal(t, "invalid_request", e.Error.Code)
			require.Contains(t, e.Error.Message, tt.want)
		})
	}
}

// TestRestartRequeuesUnfinishedCrawls: a crawl the database says is queued,
// with no task anywhere (the embedded Redis was lost), runs after the next
// start.
func TestRestartRequeuesUnfinishedCrawls(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	b := setup(t, fetchEnv("127.0.0.0/8", s.port()))
	b.stop(t)

	cr := ragqueue.Crawl{ID: uuid.NewString(), JobID: uuid.NewString(), Tenant: keys.DefaultTenant,
		Spec: ragqueue.CrawlSpec{URLs: []string{s.url("/tomatoes")}, MaxPages: 5, RespectRobots: true}}
	b.whileStopped(t, func(ctx context.Context, a *app.App) {
		require.NoError(t, a.Store().CreateJob(ctx, ragqueue.Job{ID: cr.JobID, Tenant: cr.Tenant, Type: ragqueue.KindCrawl}))
		require.NoError(t, a.Store().CreateCrawl(ctx, cr))
	})

	b.start(t)
	c := b.waitCrawl(t, testAdminKey, cr.ID)
	require.Equal(t, "succeeded", c.Status)
	require.Equal(t, 1, c.PagesFetched)
	require.Len(t, c.Documents, 1)
}

// TestCrawlRefresh: a crawl with "refresh" runs again on its own after the
// interval, as a new job, and picks up the page that changed meanwhile.
func TestCrawlRefresh(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	env := fetchEnv("127.0.0.0/8", s.port())
	env["RAGQ_CRAWL_MIN_REFRESH"] = "1s"
	b := setup(t, env)
	writer := b.newKey(t, "garden", "writer")

	for _, bad := range []string{"soon", "500ms", "-1h"} {
		var e apiError
		require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/crawls", writer,
			map[string]any{"urls": []string{s.url("/")}, "refresh": bad}, &e), bad)
		require.Contains(t, e.Error.Message, "RAGQ_CRAWL_MIN_REFRESH")
	}

	first := b.crawl(t, writer, map[string]any{"urls": []string{s.url("/")}, "max_depth": 1, "refresh": "2s"})
	require.Equal(t, "succeeded", first.Status)
	type refreshing struct {
		crawlResp
		NextRunAt *time.Time `json:"next_run_at"`
		Request   struct {
			Refresh string `json:"refresh"`
		} `json:"request"`
	}
	var got refreshing
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/crawls/"+first.ID, writer, nil, "", &got))
	require.Equal(t, "2s", got.Request.Refresh)
	require.NotNil(t, got.NextRunAt, "a refreshing crawl says when it runs next")

	var basil string
	for _, id := range first.Documents {
		d := b.waitStatus(t, writer, id)
		if d.Source == s.url("/basil") {
			basil = id
		}
	}
	require.NotEmpty(t, basil)
	s.set("/basil", page("Basil", "Basil wants warm soil, full sun and water in the morning."))

	// The next run happens by itself, under a job of its own, and updates
	// the changed page.
	require.Eventually(t, func() bool {
		got = refreshing{}
		b.do(t, http.MethodGet, "/v1/crawls/"+first.ID, writer, nil, "", &got)
		return got.JobID != first.JobID && got.Status == "succeeded"
	}, 60*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		d := b.waitStatus(t, writer, basil)
		return d.Version == 2 && d.Status == "ready"
	}, 60*time.Second, 50*time.Millisecond)
	var job struct {
		Type  string `json:"type"`
		State string `json:"state"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/jobs/"+got.JobID, writer, nil, "", &job))
	require.Equal(t, "crawl", job.Type)
}

// TestCrawlPDFLink: a PDF linked from a crawled page goes through the PDF
// path: a document with pages whose text is searchable with the URL as
// source.
func TestCrawlPDFLink(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	s.set("/", page("Reports", `Read the <a href="/report.pdf">quarterly report</a>.`))
	s.set("/report.pdf", readFixture(t, "report.pdf"))
	b := setup(t, fetchEnv("127.0.0.0/8", s.port()))

	c := b.crawl(t, testAdminKey, map[string]any{"urls": []string{s.url("/")}, "max_depth": 1})
	require.Equal(t, "succeeded", c.Status)
	require.Len(t, c.Documents, 2, "%+v", c)
	var pdf docResp
	for _, id := range c.Documents {
		d := b.waitStatus(t, testAdminKey, id)
		require.Equal(t, "ready", d.Status, d.Error)
		if d.Source == s.url("/report.pdf") {
			pdf = d
		}
	}
	require.Equal(t, "application/pdf", pdf.ContentType)
	require.Equal(t, 3, pdf.Pages)
	var sr searchResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q="+url.QueryEscape("Café crème carte"), testAdminKey, nil, "", &sr))
	require.NotEmpty(t, sr.Results)
	require.Equal(t, s.url("/report.pdf"), sr.Results[0].Source)
	require.Equal(t, 3, sr.Results[0].Page)
}

// TestCrawlIndexesMainContent checks that a crawled page is indexed from
// its main content, as readability finds it: link lists and promos around
// the article are not searchable, the article is.
func TestCrawlIndexesMainContent(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	// Plain divs of links and a promo: no <nav> or <footer> for a simple
	// extractor to drop; readability drops them by their link density.
	links := strings.Repeat(`<a href="/pears">Quokkanav related story</a> `, 12)
	article := strings.Repeat("<p>Espaliered pear trees are trained flat against a sunny wall, which warms the fruit "+
		"and saves space in a small garden; prune them in late summer to keep the shape.</p>", 4)
	s.set("/pears", `<!doctype html><html><head><title>Pears</title></head><body><div class="wrap">`+
		`<div>`+links+`</div><div><h1>Espaliered pears</h1>`+article+`</div>`+
		`<div><p>Quokkanav promo: subscribe today</p>`+links+`</div></div></body></html>`)
	b := setup(t, fetchEnv("127.0.0.0/8", s.port()))
	writer := b.newKey(t, "orchard", "writer")

	c := b.crawl(t, writer, map[string]any{"urls": []string{s.url("/pears")}, "max_depth": 0, "max_pages": 1})
	require.Equal(t, "succeeded", c.Status, "%+v", c)
	require.Len(t, c.Documents, 1)
	d := b.waitStatus(t, writer, c.Documents[0])
	require.Equal(t, "ready", d.Status, d.Error)

	require.True(t, answers(b.searchTexts(t, writer, "espaliered pear sunny wall"), d.ID, "Espaliered pear trees"))
	for _, h := range b.searchTexts(t, writer, "quokkanav") {
		require.NotContains(t, strings.ToLower(h.text), "quokkanav", "boilerplate was indexed")
	}
}
