package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gocolly/colly/v2"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// crawlSite is a small site on 127.0.0.2 with a neighbour on 127.0.0.3.
type crawlSite struct {
	site
	main, other *site
	p, otherP   uint16
	fetcher     *Fetcher
	// Page requests (not robots.txt): how many arrived, how many were in
	// flight at once at most. Guarded by mu.
	mu                 sync.Mutex
	requests, inFlight int
	maxInFlight        int
}

// at is a URL of the main site.
func (cs *crawlSite) at(path string) string { return urlOf("127.0.0.2", cs.p, path) }

// page renders an HTML page with a title, some text and links.
func htmlPage(title string, links ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<!doctype html><html><head><title>%s</title></head><body><main><h1>%s</h1><p>This is the page called %s. It has a paragraph of text so that it is worth indexing.</p><ul>", title, title, title)
	for _, l := range links {
		fmt.Fprintf(&b, `<li><a href="%s">%s</a></li>`, l, l)
	}
	b.WriteString("</ul></main></body></html>")
	return b.String()
}

// newCrawlSite starts the sites. robots is the main site's robots.txt.
func newCrawlSite(t *testing.T, robots string) *crawlSite {
	t.Helper()
	cs := &crawlSite{main: &site{}, other: &site{}}
	_, cs.otherP = serve(t, "127.0.0.3", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.other.count(r)
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, htmlPage("Other"))
	}))
	other := urlOf("127.0.0.3", cs.otherP, "/other")
	_, cs.p = serve(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.main.count(r)
		if r.URL.Path != "/robots.txt" {
			cs.mu.Lock()
			cs.requests++
			cs.inFlight++
			cs.maxInFlight = max(cs.maxInFlight, cs.inFlight)
			cs.mu.Unlock()
			defer func() { cs.mu.Lock(); cs.inFlight--; cs.mu.Unlock() }()
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/robots.txt":
			h.Set("Content-Type", "text/plain")
			fmt.Fprint(w, robots)
		case "/":
			fmt.Fprint(w, htmlPage("Home", "/a", "/a#x", "/a/../a", "./a", "/b", "/private/x", "/doc.pdf", other, "/missing", "/old", "/latin1", "/noindex", "/nofollow", "mailto:x@example.com"))
		case "/a":
			fmt.Fprint(w, htmlPage("A", "/a1", "/", "/A"))
		case "/b":
			fmt.Fprint(w, htmlPage("B", "/b1"))
		case "/a1", "/b1", "/A", "/leaf", "/private/x":
			fmt.Fprint(w, htmlPage(strings.TrimPrefix(r.URL.Path, "/")))
		case "/old":
			http.Redirect(w, r, "/a", http.StatusFound)
		case "/doc.pdf":
			writePDF(w)
		case "/latin1":
			writeLatin1HTML(w, "Un caf\xe9 cr\xe8me.")
		case "/noindex":
			fmt.Fprint(w, strings.Replace(htmlPage("No index", "/leaf"), "<head>", `<head><meta name="robots" content="noindex">`, 1))
		case "/nofollow":
			fmt.Fprint(w, strings.Replace(htmlPage("No follow", "/never"), "<head>", `<head><meta name="robots" content="nofollow">`, 1))
		default:
			http.NotFound(w, r)
		}
	}))
	cs.fetcher = testFetcher(FetchOptions{}, cs.p, cs.otherP)
	return cs
}

// crawled is what a crawl handed over.
type crawled struct {
	stats  CrawlStats
	pages  map[string]Page
	errors map[string]error
}

// urls lists the pages' URLs, sorted.
func (c crawled) urls() []string {
	var out []string
	for u := range c.pages {
		out = append(out, u)
	}
	sort.Strings(out)
	return out
}

// run crawls with req and collects the result.
func (cs *crawlSite) run(t *testing.T, req CrawlRequest, hooks *crawlHooks) crawled {
	t.Helper()
	c := crawled{pages: map[string]Page{}, errors: map[string]error{}}
	var err error
	c.stats, err = crawl(context.Background(), cs.fetcher.client, cs.fetcher, req, func(p Page) error {
		_, dup := c.pages[p.URL]
		require.False(t, dup, "page %s handed over twice", p.URL)
		c.pages[p.URL] = p
		return nil
	}, func(u string, err error) { c.errors[u] = err }, hooks)
	require.NoError(t, err)
	require.Equal(t, len(c.pages), c.stats.Fetched)
	require.Equal(t, len(c.errors), c.stats.Failed+c.stats.Blocked)
	return c
}

func TestCrawl(t *testing.T) {
	t.Parallel()
	cs := newCrawlSite(t, "User-agent: *\nDisallow: /private\n")
	c := cs.run(t, CrawlRequest{Seeds: []string{cs.at("/")}}, nil)

	require.Equal(t, []string{cs.at("/"), cs.at("/a"), cs.at("/b"), cs.at("/doc.pdf"), cs.at("/latin1"), cs.at("/nofollow")}, c.urls())
	require.Equal(t, "Home", c.pages[cs.at("/")].Title)
	require.Equal(t, ingest.TypeHTML, c.pages[cs.at("/")].ContentType)

	// Each page once: /a, /a#x, /a/../a, ./a and the redirect from /old.
	require.Equal(t, 1, cs.main.hit("/a"))
	require.Equal(t, 1, cs.main.hit("/old"))
	require.Equal(t, 1, cs.main.hit("/robots.txt"), "robots.txt is fetched once per crawl")
	// Depth 1 by default: the pages' own links are not followed.
	require.Zero(t, cs.main.hit("/a1")+cs.main.hit("/b1")+cs.main.hit("/A"))
	// robots.txt Disallow.
	require.Zero(t, cs.main.hit("/private/x"))
	// Another host is not crawled unless allowed.
	require.Zero(t, cs.other.hit("/other"))
	// The PDF comes back as a PDF, its bytes untouched.
	pdf := c.pages[cs.at("/doc.pdf")]
	require.Equal(t, ingest.TypePDF, pdf.ContentType)
	require.Equal(t, pdfBytes, pdf.Body)
	// The charset reaches the parser (colly does not convert behind our back).
	require.Contains(t, c.pages[cs.at("/latin1")].Parsed.Sections[0].Text, "Un café crème.")
	// noindex: fetched, not handed over; nofollow: handed over, links not followed.
	require.Equal(t, 1, cs.main.hit("/noindex"))
	require.Zero(t, cs.main.hit("/never"))
	require.Empty(t, c.pages[cs.at("/nofollow")].Links)
	// The 404 is reported.
	require.Len(t, c.errors, 1)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(c.errors[cs.at("/missing")]))
	require.Contains(t, errMessage(c.errors[cs.at("/missing")]), "HTTP 404 Not Found")
	require.Equal(t, CrawlStats{Fetched: 6, Failed: 1, Skipped: 3}, c.stats) // /private/x, /old→/a, /noindex

	cs.main.mu.Lock()
	for _, ua := range cs.main.ua {
		require.Equal(t, DefaultUserAgent, ua)
	}
	cs.main.mu.Unlock()
}

func TestCrawlDepthAndHosts(t *testing.T) {
	t.Parallel()
	cs := newCrawlSite(t, "")
	c := cs.run(t, CrawlRequest{Seeds: []string{cs.at("/")}, MaxDepth: 2, AllowedHosts: []string{"127.0.0.3"}, IgnoreRobotsTxt: true}, nil)
	for _, p := range []string{"/a1", "/b1", "/A", "/leaf", "/private/x"} {
		require.Equal(t, 1, cs.main.hit(p), p)
	}
	require.Zero(t, cs.main.hit("/robots.txt"), "robots.txt is not fetched when ignored")
	require.Equal(t, 1, cs.other.hit("/other"), "an allowed host is crawled")
	require.Contains(t, c.pages, urlOf("127.0.0.3", cs.otherP, "/other"))

	cs = newCrawlSite(t, "")
	c = cs.run(t, CrawlRequest{Seeds: []string{cs.at("/")}, MaxDepth: -1}, nil)
	require.Equal(t, []string{cs.at("/")}, c.urls(), "negative depth: the seeds only")
}

func TestCrawlPageLimit(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{1, 2, 5} {
		cs := newCrawlSite(t, "")
		c := cs.run(t, CrawlRequest{Seeds: []string{cs.at("/")}, MaxPages: limit, MaxDepth: 3, Parallelism: 4}, nil)
		require.Len(t, c.pages, limit)
		require.Equal(t, limit, c.stats.Fetched)
		require.Positive(t, c.stats.Skipped, "the URLs left over are counted")
	}
}

// TestCrawlDelay: a robots.txt Crawl-delay becomes the host's limit rule
// (one request at a time, the delay between requests), and that rule is the
// one the requests obey: never two in flight, though four were asked for.
// (No wall-clock assertion: the delay itself is checked on the rule.)
func TestCrawlDelay(t *testing.T) {
	t.Parallel()
	cs := newCrawlSite(t, "User-agent: *\nCrawl-delay: 0.2\n\nUser-agent: otherbot\nCrawl-delay: 9\n")
	rules := map[string]colly.LimitRule{}
	hooks := &crawlHooks{rule: func(host string, r *colly.LimitRule) { rules[host] = *r }}
	cs.run(t, CrawlRequest{Seeds: []string{cs.at("/a")}, MaxDepth: 2, MaxPages: 4, Parallelism: 4, Delay: 50 * time.Millisecond}, hooks)

	rule := rules[strings.TrimPrefix(cs.at(""), "http://")]
	require.Equal(t, 1, rule.Parallelism)
	require.Equal(t, 200*time.Millisecond, rule.Delay, "the longer of the request's delay and Crawl-delay")
	require.Equal(t, "*", rule.DomainGlob)

	cs.mu.Lock()
	require.GreaterOrEqual(t, cs.requests, 3)
	require.Equal(t, 1, cs.maxInFlight, "Crawl-delay allows one request at a time")
	cs.mu.Unlock()

	// Without Crawl-delay the request's settings stand.
	cs = newCrawlSite(t, "User-agent: *\nDisallow: /private\n")
	clear(rules)
	cs.run(t, CrawlRequest{Seeds: []string{cs.at("/")}, Parallelism: 3}, hooks)
	rule = rules[strings.TrimPrefix(cs.at(""), "http://")]
	require.Equal(t, 3, rule.Parallelism)
	require.Zero(t, rule.Delay)
}

func TestCrawlRobotsUnavailable(t *testing.T) {
	t.Parallel()
	_, p := serve(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/robots.txt" {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		t.Errorf("%s fetched although robots.txt is unavailable", r.URL.Path)
	}))
	f := testFetcher(FetchOptions{}, p)
	var msgs []string
	stats, err := Crawl(context.Background(), nil, f, CrawlRequest{Seeds: []string{urlOf("127.0.0.2", p, "/"), urlOf("127.0.0.2", p, "/x")}},
		nil, func(_ string, err error) { msgs = append(msgs, errMessage(err)) })
	require.NoError(t, err)
	require.Equal(t, CrawlStats{Failed: 2}, stats)
	require.Contains(t, msgs[0], "robots.txt answered HTTP 503")
}

func TestCrawlCancel(t *testing.T) {
	t.Parallel()
	started := make(chan struct{}, 10)
	_, p := serve(t, "127.0.0.2", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/robots.txt":
			http.NotFound(w, r)
		case "/":
			started <- struct{}{}
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, htmlPage("Home", "/slow1", "/slow2", "/slow3"))
		default:
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
		}
	}))
	f := testFetcher(FetchOptions{}, p)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var after sync.Mutex
	returned := false
	go func() {
		_, err := Crawl(ctx, nil, f, CrawlRequest{Seeds: []string{urlOf("127.0.0.2", p, "/")}, Delay: maxCrawlDelay}, func(Page) error {
			after.Lock()
			defer after.Unlock()
			require.False(t, returned, "onPage after Crawl returned")
			return nil
		}, nil)
		after.Lock()
		returned = true
		after.Unlock()
		done <- err
	}()
	<-started // the seed's worker now sleeps out colly's delay, which Crawl must not wait for
	cancel()
	// A hang guard, not a timing assertion: Crawl returns at once when it
	// does not wait for the delay, and takes at least maxCrawlDelay when it
	// does, so the guard sits far from both.
	select {
	case err := <-done:
		require.True(t, errors.Is(err, context.Canceled), "%v", err)
	case <-time.After(maxCrawlDelay * 2 / 3):
		t.Fatal("Crawl waited for the host's delay after ctx was cancelled")
	}
}

func TestCrawlOnPageError(t *testing.T) {
	t.Parallel()
	cs := newCrawlSite(t, "")
	stop := errors.New("enough")
	n := 0
	stats, err := Crawl(context.Background(), nil, cs.fetcher, CrawlRequest{Seeds: []string{cs.at("/")}}, func(Page) error {
		n++
		return stop
	}, nil)
	require.ErrorIs(t, err, stop)
	require.Equal(t, 1, n)
	require.Equal(t, 1, stats.Fetched)
}

func TestCrawlRequestChecks(t *testing.T) {
	t.Parallel()
	f := testFetcher(FetchOptions{})
	for _, req := range []CrawlRequest{
		{},
		{Seeds: []string{"http://x.example/"}, MaxPages: -1},
		{Seeds: []string{"http://x.example/"}, Parallelism: 1000},
		{Seeds: []string{"http://x.example/"}, MaxDepth: 1000},
		{Seeds: []string{"http://x.example/"}, Delay: time.Hour},
		{Seeds: []string{"http://x.example/"}, AllowedHosts: []string{"a/b"}},
	} {
		_, err := Crawl(context.Background(), nil, f, req, nil, nil)
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), "%+v: %v", req, err)
	}
	req := CrawlRequest{Seeds: []string{"http://y/"}, AllowedHosts: []string{"X.Example:8080", "[::1]", "Bücher.example"}}
	require.NoError(t, normalizeRequest(&req))
	require.Equal(t, []string{"x.example", "::1", "xn--bcher-kva.example"}, req.AllowedHosts)
	require.Equal(t, CrawlRequest{Seeds: req.Seeds, AllowedHosts: req.AllowedHosts, MaxDepth: 1, MaxPages: 100, Parallelism: 2}, req)
}
