package crawls

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/documents"
)

// Crawl run limits.
const (
	// maxCrawlErrors bounds the errors a crawl record keeps.
	maxCrawlErrors = 200
	// crawlStorers is how many fetched pages are stored and ingested at
	// once, beside the fetching.
	crawlStorers = 4
)

// crawlProgress is a crawl job's progress.
type crawlProgress struct {
	PagesFetched int `json:"pages_fetched"`
	PagesFailed  int `json:"pages_failed"`
	PagesQueued  int `json:"pages_queued"` // new content handed to ingestion
	PagesReady   int `json:"pages_ready"`  // of those, searchable when the crawl reported
}

// crawl runs a recorded crawl with web.Crawl and turns each page into a
// document (StorePage: deduplicated by URL, new versions for changed
// pages), ingesting new content inline from the text the crawler
// extracted (IngestCrawled). Running it again starts the crawl over; pages
// already stored are left alone.
func (s *Service) crawl(ctx context.Context, a jobs.CrawlArgs) error {
	c, ok, err := s.start(ctx, a)
	if err != nil || !ok {
		return err
	}
	r := &crawlRun{s: s, a: a, c: c, seen: make(map[string]bool), last: time.Now()}
	if err := r.run(ctx); err != nil {
		return err
	}
	return r.finish(ctx)
}

// start loads the crawl a runs and records it active. ok is false when
// there is nothing to run: the crawl is gone, done, or superseded.
func (s *Service) start(ctx context.Context, a jobs.CrawlArgs) (c ragqueue.Crawl, ok bool, err error) {
	c, err = s.cfg.Crawls.GetCrawl(ctx, a.Tenant, a.CrawlID)
	if ragqueue.IsNotFound(err) {
		return c, false, nil
	} else if err != nil {
		return c, false, fmt.Errorf("crawls: get crawl %s: %w", a.CrawlID, err)
	}
	if c.Status.Terminal() {
		if c.NextRunAt == nil || a.JobID != refreshJobID(c.ID, *c.NextRunAt) {
			return c, false, nil // done, or a run that was superseded
		}
		// A scheduled refresh: this run gets its own job.
		c.JobID, c.NextRunAt, c.CompletedAt = a.JobID, nil, nil
	}
	if s.cfg.Fetcher == nil {
		return c, false, jobs.Permanent(errors.New("crawls: web fetching is not configured in this worker"))
	}
	c.Status, c.PagesFetched, c.PagesFailed, c.PagesBlocked = ragqueue.StateActive, 0, 0, 0
	c.Documents, c.Errors = []string{}, []ragqueue.URLError{}
	if err := s.cfg.Crawls.UpdateCrawl(ctx, c); err != nil {
		return c, false, fmt.Errorf("crawls: start crawl %s: %w", a.CrawlID, err)
	}
	s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateActive), Progress: jobs.MustMarshal(crawlProgress{})})
	return c, true, nil
}

// crawlRun is one run of a crawl. A few storers take pages off the
// crawler, store and ingest them, so that fetching goes on meanwhile.
type crawlRun struct {
	s *Service
	a jobs.CrawlArgs

	mu       sync.Mutex // guards c, seen, progress, last
	c        ragqueue.Crawl
	seen     map[string]bool
	progress crawlProgress
	last     time.Time
}

// run crawls, handing pages to crawlStorers storers through a channel that
// holds at most crawlStorers pages.
func (r *crawlRun) run(ctx context.Context) error {
	c := r.c // the spec does not change while the run goes on
	depth := c.Spec.MaxDepth
	if depth <= 0 {
		depth = -1 // web.Crawl: negative is the seeds only
	}
	req := web.CrawlRequest{
		Seeds: c.Spec.URLs, MaxDepth: depth, MaxPages: c.Spec.MaxPages,
		AllowedHosts: c.Spec.AllowedHosts, IgnoreRobotsTxt: !c.Spec.RespectRobots,
	}
	g, gctx := errgroup.WithContext(ctx)
	pages := make(chan web.Page, crawlStorers)
	for range crawlStorers {
		g.Go(func() error {
			for p := range pages {
				if err := r.store(gctx, ctx, p); err != nil {
					return err
				}
			}
			return nil
		})
	}
	onPage := func(p web.Page) error {
		r.s.cfg.Documents.CountFetch(nil)
		r.mu.Lock()
		r.c.PagesFetched++
		r.mu.Unlock()
		select {
		case pages <- p:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	}
	_, err := web.Crawl(gctx, r.s.cfg.WebClient, r.s.cfg.Fetcher, req, onPage, func(u string, err error) { r.onError(ctx, u, err) })
	close(pages)
	if werr := g.Wait(); werr != nil {
		return fmt.Errorf("crawls: crawl %s: %w", r.a.CrawlID, werr)
	}
	if err != nil {
		return fmt.Errorf("crawls: crawl %s: %w", r.a.CrawlID, err)
	}
	return nil
}

// store stores and ingests one fetched page under ctx, and records what
// became of it, reporting progress under the run's rctx.
func (r *crawlRun) store(ctx, rctx context.Context, p web.Page) error {
	doc, outcome, err := r.s.cfg.Documents.StorePage(ctx, r.a.Tenant, p)
	if err != nil {
		return err
	}
	var ready bool
	var ierr error
	if outcome == documents.PageCreated || outcome == documents.PageUpdated {
		ready, ierr = r.s.cfg.Documents.IngestCrawled(ctx, doc, p, outcome == documents.PageCreated)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch outcome {
	case documents.PageCreated, documents.PageUpdated:
		r.progress.PagesQueued++
		if ready {
			r.progress.PagesReady++
		}
		if ierr != nil {
			r.addErr(p.URL, "could not index the page: "+jobs.FailureMessage(ierr))
		}
	case documents.PageDuplicate:
		r.addErr(p.URL, fmt.Sprintf("the same content as document %s (%s); not stored again", doc.ID, doc.Source))
	case documents.PageBusy:
		r.addErr(p.URL, fmt.Sprintf("document %s of this URL is still being ingested; its new content was not stored, crawl again later", doc.ID))
	}
	if !r.seen[doc.ID] {
		r.seen[doc.ID] = true
		r.c.Documents = append(r.c.Documents, doc.ID)
	}
	r.report(rctx)
	return nil
}

// onError records a page that could not be fetched.
func (r *crawlRun) onError(ctx context.Context, u string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s.cfg.Documents.CountFetch(err)
	if errors.Is(err, web.ErrBlocked) {
		r.c.PagesBlocked++
	} else {
		r.c.PagesFailed++
	}
	r.addErr(u, ragqueue.ErrorMessage(err))
	r.report(ctx)
}

// addErr keeps an error of the crawl, up to maxCrawlErrors; with mu held.
func (r *crawlRun) addErr(u, msg string) {
	if len(r.c.Errors) < maxCrawlErrors {
		r.c.Errors = append(r.c.Errors, ragqueue.URLError{URL: u, Error: msg})
	}
}

// report records the progress on the job and the crawl, at most every
// jobs.ProgressEvery; with mu held.
func (r *crawlRun) report(ctx context.Context) {
	if time.Since(r.last) < jobs.ProgressEvery {
		return
	}
	r.last = time.Now()
	c := &r.c
	r.progress.PagesFetched, r.progress.PagesFailed = c.PagesFetched, c.PagesFailed+c.PagesBlocked
	r.s.cfg.Tracker.Set(ctx, r.a.Tenant, r.a.JobID, ragqueue.JobUpdate{Progress: jobs.MustMarshal(r.progress)})
	if err := r.s.cfg.Crawls.UpdateCrawl(ctx, *c); err != nil {
		r.s.cfg.Logger.WarnContext(ctx, "update crawl", "crawl_id", c.ID, "error", err)
	}
}

// finish records the run's outcome on the crawl and its job, and schedules
// the next run of a refreshing crawl.
func (r *crawlRun) finish(ctx context.Context) error {
	c, a := &r.c, r.a
	c.Status = ragqueue.StateSucceeded
	r.progress.PagesFetched, r.progress.PagesFailed = c.PagesFetched, c.PagesFailed+c.PagesBlocked
	if d, err := time.ParseDuration(c.Spec.Refresh); err == nil && d > 0 {
		// Microseconds, as the stores keep it: the run's job id is derived from it.
		next := time.Now().UTC().Add(d).Truncate(time.Microsecond)
		c.NextRunAt = &next
	}
	if err := r.s.cfg.Crawls.UpdateCrawl(ctx, *c); err != nil && !ragqueue.IsNotFound(err) {
		return fmt.Errorf("crawls: record crawl %s: %w", a.CrawlID, err)
	}
	if c.NextRunAt != nil {
		// Recorded first, so that if this enqueue is lost the reconciler
		// still knows the run is due.
		if err := r.s.scheduleRefresh(ctx, *c); err != nil {
			r.s.cfg.Logger.WarnContext(ctx, "schedule crawl refresh; the reconciler will retry", "crawl_id", c.ID, "error", err)
		}
	}
	return r.s.cfg.Tracker.Succeeded(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{
		Progress: jobs.MustMarshal(r.progress),
		Result:   jobs.MustMarshal(map[string]any{"crawl_id": c.ID, "documents": len(c.Documents)}),
	})
}
