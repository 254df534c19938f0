package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gocolly/colly/v2"

	"github.com/ragqueue/ragqueue"
)

// Crawl limits: defaults for the zero values of CrawlRequest, and caps.
const (
	defaultMaxDepth    = 1
	defaultMaxPages    = 100
	defaultParallelism = 2
	maxSeeds           = 1000
	maxMaxDepth        = 100
	maxMaxPages        = 100000
	maxParallelism     = 16
	// queuedPerPage bounds the frontier: at most this many URLs wait per
	// page still allowed (links beyond that are skipped).
	queuedPerPage = 10
)

// CrawlRequest says what to crawl. The zero values of its fields give the
// defaults.
type CrawlRequest struct {
	// Seeds are the URLs the crawl starts from.
	Seeds []string
	// MaxDepth is how many links away from a seed the crawl goes: 0 means
	// 1 (the seeds and the pages they link to), negative means the seeds only.
	MaxDepth int
	// MaxPages caps the pages handed to onPage; 0 means 100.
	MaxPages int
	// AllowedHosts are the host names (on any port) whose links are
	// followed; the seeds' hosts are always allowed, and are the only ones
	// when this is empty.
	AllowedHosts []string
	// Parallelism is how many requests a host gets at once; 0 means 2. A
	// host whose robots.txt asks for a Crawl-delay gets one at a time.
	Parallelism int
	// Delay is how long each of a host's request slots waits after a
	// request (plus up to a quarter more, at random); a longer robots.txt
	// Crawl-delay wins. At most 30 s.
	Delay time.Duration
	// IgnoreRobotsTxt turns off robots.txt (rules and Crawl-delay). Off by
	// default: a crawl honours robots.txt.
	IgnoreRobotsTxt bool
}

// CrawlStats counts what a crawl did with the URLs it considered. onError
// was called Failed+Blocked times.
type CrawlStats struct {
	Fetched int `json:"fetched"` // pages handed to onPage
	Failed  int `json:"failed"`  // URLs that failed (HTTP errors, no text, too large…), reported to onError
	Skipped int `json:"skipped"` // URLs not fetched on purpose: robots.txt, noindex, duplicates after redirects, the page limit
	Blocked int `json:"blocked"` // URLs the SSRF guard refused, reported to onError
}

// Crawl crawls from req.Seeds with colly, through client (from NewClient;
// nil means f's), handing each page to onPage and each failed URL to
// onError with an error a person can read (ragqueue.ErrorMessage).
//
// It fetches each normalised URL at most once, follows only links of
// fetched pages whose host is allowed, up to req.MaxDepth links from a
// seed, honours robots.txt and its Crawl-delay, limits each host to
// req.Parallelism requests at a time, and calls onPage at most req.MaxPages
// times. Bodies are capped after decompression like Fetch's. onPage and
// onError are called from Crawl's goroutine, one at a time, never after
// Crawl returns. An error from onPage stops the crawl and is returned.
// When ctx is done Crawl returns at once with ctx's error; requests in
// flight are cancelled and end shortly after without calling back.
func Crawl(ctx context.Context, client *http.Client, f *Fetcher, req CrawlRequest, onPage func(Page) error, onError func(url string, err error)) (CrawlStats, error) {
	return crawl(ctx, client, f, req, onPage, onError, nil)
}

// crawlHooks let tests watch a crawl's internals.
type crawlHooks struct {
	rule func(host string, r *colly.LimitRule) // a host's limit rule, when it is set
}

// crawl is Crawl with test hooks.
func crawl(ctx context.Context, client *http.Client, f *Fetcher, req CrawlRequest, onPage func(Page) error, onError func(string, error), hooks *crawlHooks) (CrawlStats, error) {
	if f == nil {
		f = NewFetcher(client, FetchOptions{})
	}
	if client == nil {
		client = f.client
	}
	if onError == nil {
		onError = func(string, error) {}
	}
	if err := normalizeRequest(&req); err != nil {
		return CrawlStats{}, err
	}
	if err := ctx.Err(); err != nil {
		return CrawlStats{}, fmt.Errorf("web: crawl: %w", err)
	}
	cr := &crawler{
		ctx:      ctx,
		f:        f,
		req:      req,
		onPage:   onPage,
		onError:  onError,
		hooks:    hooks,
		allowed:  make(map[string]bool),
		hosts:    make(map[string]*hostState),
		results:  make(chan visitResult),
		robotsCh: make(chan robotsResult),
		stop:     make(chan struct{}),
	}
	defer close(cr.stop)
	for _, h := range req.AllowedHosts {
		cr.allowed[h] = true
	}
	var seeds []string
	for _, s := range req.Seeds {
		norm, host, err := checkSeed(s)
		if err != nil {
			cr.fail(s, err)
			continue
		}
		cr.allowed[host] = true
		seeds = append(seeds, norm)
	}
	cr.client = cr.guardedClient(client)
	for _, s := range seeds {
		cr.add(s, 0)
	}
	return cr.run()
}

// normalizeRequest fills in defaults and checks limits.
func normalizeRequest(req *CrawlRequest) error {
	switch {
	case len(req.Seeds) == 0:
		return codeErr(ragqueue.EINVALID, "a crawl needs at least one seed URL")
	case len(req.Seeds) > maxSeeds:
		return codeErr(ragqueue.EINVALID, "a crawl takes at most %d seed URLs", maxSeeds)
	case req.MaxDepth > maxMaxDepth:
		return codeErr(ragqueue.EINVALID, "the crawl depth is at most %d", maxMaxDepth)
	case req.MaxPages < 0 || req.MaxPages > maxMaxPages:
		return codeErr(ragqueue.EINVALID, "the page limit is between 1 and %d", maxMaxPages)
	case req.Parallelism < 0 || req.Parallelism > maxParallelism:
		return codeErr(ragqueue.EINVALID, "the parallelism is between 1 and %d", maxParallelism)
	case req.Delay < 0 || req.Delay > maxCrawlDelay:
		return codeErr(ragqueue.EINVALID, "the delay is between 0 and %s", maxCrawlDelay)
	}
	switch {
	case req.MaxDepth == 0:
		req.MaxDepth = defaultMaxDepth
	case req.MaxDepth < 0:
		req.MaxDepth = 0
	}
	if req.MaxPages == 0 {
		req.MaxPages = defaultMaxPages
	}
	if req.Parallelism == 0 {
		req.Parallelism = defaultParallelism
	}
	hosts := make([]string, 0, len(req.AllowedHosts))
	for _, h := range req.AllowedHosts {
		n, err := normalizeHostName(h)
		if err != nil {
			return err
		}
		hosts = append(hosts, n)
	}
	req.AllowedHosts = hosts
	return nil
}

// normalizeHostName puts an allowed-host entry ("Example.com",
// "example.com:8080", "[::1]") in the form URLs' host names take after
// NormalizeURL.
func normalizeHostName(h string) (string, error) {
	n, err := NormalizeURL("http://" + strings.TrimSpace(h) + "/")
	if err != nil || strings.ContainsAny(strings.TrimSpace(h), "/?#@") {
		return "", codeErr(ragqueue.EINVALID, "%s is not a host name", quoteURL(h))
	}
	u, err := url.Parse(n)
	if err != nil {
		return "", codeErr(ragqueue.EINVALID, "%s is not a host name", quoteURL(h))
	}
	return u.Hostname(), nil
}

// checkSeed checks and normalises a seed URL, returning its host name.
func checkSeed(raw string) (norm, host string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		return "", "", codeErr(ragqueue.EINVALID, "%s is not a valid URL", quoteURL(raw))
	}
	if err := checkURL(u); err != nil {
		return "", "", err
	}
	norm, err = normalizeParsed(u)
	if err != nil {
		return "", "", err
	}
	nu, err := url.Parse(norm)
	if err != nil {
		return "", "", codeErr(ragqueue.EINVALID, "%s is not a valid URL", quoteURL(raw))
	}
	return norm, nu.Hostname(), nil
}

// crawler is one crawl's state. Everything but seen, robots and the colly
// collectors belongs to the goroutine running Crawl.
type crawler struct {
	ctx     context.Context
	f       *Fetcher
	req     CrawlRequest
	onPage  func(Page) error
	onError func(string, error)
	hooks   *crawlHooks

	client        *http.Client                               // guarded, through crawlTransport
	guardRedirect func(*http.Request, []*http.Request) error // the guard's redirect check
	robots        robotsStore
	seen          seenSet

	allowed  map[string]bool       // host names whose links are followed
	hosts    map[string]*hostState // by URL host (host[:port])
	order    []*hostState          // hosts in the order they were met
	queued   int                   // URLs waiting in host queues
	inflight int                   // visits running
	pending  int                   // robots.txt fetches running
	stats    CrawlStats

	results  chan visitResult
	robotsCh chan robotsResult
	stop     chan struct{} // closed when Crawl returns
}

// hostState is one host's queue, limits and colly collector.
type hostState struct {
	host        string // URL host, host[:port]
	scheme      string // of the first URL met, for robots.txt
	c           *colly.Collector
	queue       []item
	active      int
	parallelism int
	state       int   // hostNew, hostRobots or hostReady
	err         error // why the host is not crawled, when it is not
}

// hostState.state values.
const (
	hostNew    = iota // robots.txt not asked for yet
	hostRobots        // robots.txt being fetched
	hostReady         // limit rule set; URLs can go
)

// item is a URL waiting to be visited.
type item struct {
	url   string // normalised
	depth int    // links from a seed
}

// visitResult is what a worker reports for one item.
type visitResult struct {
	host *hostState
	item item
	page Page
	err  error
	ok   bool // page is usable (even when err reports a text problem, links may be)
}

// robotsResult is what a robots.txt fetch reports.
type robotsResult struct {
	host *hostState
	file robotsFile
	err  error
}

// run is the crawl loop: start what the limits allow, wait for something
// to finish, repeat until nothing is running.
func (cr *crawler) run() (CrawlStats, error) {
	for {
		cr.dispatch()
		if cr.inflight == 0 && cr.pending == 0 {
			break
		}
		select {
		case r := <-cr.results:
			if err := cr.handle(r); err != nil {
				return cr.stats, err
			}
		case r := <-cr.robotsCh:
			cr.pending--
			cr.robotsReady(r)
		case <-cr.ctx.Done():
			return cr.stats, fmt.Errorf("web: crawl: %w", cr.ctx.Err())
		}
	}
	cr.stats.Skipped += cr.queued // left over when the page limit was reached
	return cr.stats, nil
}

// dispatch starts robots.txt fetches and visits as the limits allow.
func (cr *crawler) dispatch() {
	for _, h := range cr.order {
		if len(h.queue) == 0 {
			continue
		}
		if h.state == hostNew && cr.stats.Fetched+cr.inflight < cr.req.MaxPages {
			cr.startHost(h) // ready at once when robots.txt is ignored
		}
		if h.state != hostReady {
			continue
		}
		if h.err != nil {
			for _, it := range h.queue {
				cr.fail(it.url, hostErr(it.url, h.err))
			}
			cr.queued -= len(h.queue)
			h.queue = nil
			continue
		}
		for len(h.queue) > 0 && h.active < h.parallelism && cr.stats.Fetched+cr.inflight < cr.req.MaxPages {
			it := h.queue[0]
			h.queue[0] = item{}
			h.queue = h.queue[1:]
			cr.queued--
			h.active++
			cr.inflight++
			go cr.work(h, it)
		}
	}
}

// hostErr is the error for a URL of a host that is not crawled: a refusal
// of its robots.txt is reworded as a refusal of the URL.
func hostErr(u string, err error) error {
	var be *BlockedError
	if errors.As(err, &be) {
		return &BlockedError{URL: u, Reason: be.Reason}
	}
	return err
}

// startHost fetches a host's robots.txt, or sets its limit rule at once
// when robots.txt is ignored.
func (cr *crawler) startHost(h *hostState) {
	if cr.req.IgnoreRobotsTxt {
		cr.setRule(h, 0)
		return
	}
	h.state = hostRobots
	cr.pending++
	go func() {
		rf, err := fetchRobots(cr.ctx, cr.client, h.scheme, h.host, cr.f.opts.UserAgent)
		select {
		case cr.robotsCh <- robotsResult{host: h, file: rf, err: err}:
		case <-cr.stop:
		}
	}()
}

// robotsReady records a host's robots.txt and sets its limit rule.
func (cr *crawler) robotsReady(r robotsResult) {
	h := r.host
	if r.err != nil {
		h.state, h.err = hostReady, r.err
		return
	}
	cr.robots.put(h.host, r.file)
	cr.setRule(h, r.file.delay)
}

// setRule gives host h its colly collector, whose one limit rule carries
// the request's parallelism and delay, or one request at a time and the
// Crawl-delay when robots.txt asks for one. A collector per host lets the
// rule be set before the collector's first request (colly's Limit is not
// safe while requests run).
func (cr *crawler) setRule(h *hostState, crawlDelay time.Duration) {
	h.state = hostReady
	h.parallelism = cr.req.Parallelism
	delay := cr.req.Delay
	if crawlDelay > 0 {
		h.parallelism = 1
		delay = max(delay, crawlDelay)
	}
	rule := &colly.LimitRule{
		DomainGlob:  "*", // the collector fetches this host only
		Parallelism: h.parallelism,
		Delay:       delay,
		RandomDelay: delay / 4,
	}
	c := cr.collector()
	if err := c.Limit(rule); err != nil {
		h.err = fmt.Errorf("web: crawl: limit rule for %s: %w", h.host, err)
		return
	}
	h.c = c
	if cr.hooks != nil && cr.hooks.rule != nil {
		cr.hooks.rule(h.host, rule)
	}
}

// add queues a normalised URL found at depth, if its host is allowed, it is
// within the depth, and it was not met before.
func (cr *crawler) add(norm string, depth int) {
	if depth > cr.req.MaxDepth {
		return
	}
	u, err := url.Parse(norm)
	if err != nil || !cr.allowed[u.Hostname()] {
		return
	}
	if !cr.seen.add(norm) {
		return
	}
	if cr.queued >= queuedPerPage*(cr.req.MaxPages-cr.stats.Fetched)+cr.req.Parallelism {
		cr.stats.Skipped++
		return
	}
	h := cr.hosts[u.Host]
	if h == nil {
		h = &hostState{host: u.Host, scheme: u.Scheme}
		cr.hosts[u.Host] = h
		cr.order = append(cr.order, h)
	}
	h.queue = append(h.queue, item{url: norm, depth: depth})
	cr.queued++
}

// handle takes a worker's result: the page goes to onPage (within the page
// limit), its links to the queue, an error to onError.
func (cr *crawler) handle(r visitResult) error {
	cr.inflight--
	r.host.active--
	switch {
	case r.err == nil && r.page.noIndex:
		cr.stats.Skipped++
	case r.err == nil:
		if cr.stats.Fetched >= cr.req.MaxPages {
			cr.stats.Skipped++
			break
		}
		cr.stats.Fetched++ // onPage calls made
		if cr.onPage != nil {
			if err := cr.onPage(r.page); err != nil {
				return fmt.Errorf("web: crawl stopped: %w", err)
			}
		}
	case isSkip(r.err):
		cr.stats.Skipped++
	default:
		cr.fail(r.item.url, r.err)
	}
	if r.ok {
		for _, l := range r.page.Links {
			cr.add(l, r.item.depth+1)
		}
	}
	return nil
}

// fail counts and reports a failed URL.
func (cr *crawler) fail(u string, err error) {
	if errors.Is(err, ErrBlocked) {
		cr.stats.Blocked++
	} else {
		cr.stats.Failed++
	}
	cr.onError(u, err)
}

// errAlreadyCrawled stops a redirect to a URL the crawl has met already.
var errAlreadyCrawled = errors.New("web: the redirect target was already crawled")

// isSkip reports whether err means the URL was not fetched on purpose.
func isSkip(err error) bool {
	var av *colly.AlreadyVisitedError
	return errors.Is(err, colly.ErrRobotsTxtBlocked) || errors.Is(err, errAlreadyCrawled) || errors.As(err, &av)
}
