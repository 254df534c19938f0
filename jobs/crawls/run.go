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
// document (storePage: deduplicated by URL, new versions for changed
// pages), ingesting new content inline from the text the crawler
// extracted (ingestCrawled). Running it again
// starts the crawl over; pages already stored are left alone.
func (s *Service) crawl(ctx context.Context, a jobs.CrawlArgs) error {
	c, err := s.cfg.Crawls.GetCrawl(ctx, a.Tenant, a.CrawlID)
	if ragqueue.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("crawls: get crawl %s: %w", a.CrawlID, err)
	}
	if c.Status.Terminal() {
		if c.NextRunAt == nil || a.JobID != refreshJobID(c.ID, *c.NextRunAt) {
			return nil // done, or a run that was superseded
		}
		// A scheduled refresh: this run gets its own job.
		c.JobID, c.NextRunAt, c.CompletedAt = a.JobID, nil, nil
	}
	if s.cfg.Fetcher == nil {
		return jobs.Permanent(errors.New("crawls: web fetching is not configured in this worker"))
	}
	c.Status, c.PagesFetched, c.PagesFailed, c.PagesBlocked = ragqueue.StateActive, 0, 0, 0
	c.Documents, c.Errors = []string{}, []ragqueue.URLError{}
	if err := s.cfg.Crawls.UpdateCrawl(ctx, c); err != nil {
		return fmt.Errorf("crawls: start crawl %s: %w", a.CrawlID, err)
	}
	s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateActive), Progress: jobs.MustMarshal(crawlProgress{})})

	depth := c.Spec.MaxDepth
	if depth <= 0 {
		depth = -1 // web.Crawl: negative is the seeds only
	}
	req := web.CrawlRequest{
		Seeds: c.Spec.URLs, MaxDepth: depth, MaxPages: c.Spec.MaxPages,
		AllowedHosts: c.Spec.AllowedHosts, IgnoreRobotsTxt: !c.Spec.RespectRobots,
	}
	// A few storers take pages off the crawler, store and ingest them, so
	// that fetching goes on meanwhile. The
	// channel holds at most crawlStorers pages.
	var mu sync.Mutex // guards c, seen, progress, last
	seen := make(map[string]bool)
	var progress crawlProgress
	last := time.Now()
	report := func() { // with mu held; at most every jobs.ProgressEvery
		if time.Since(last) < jobs.ProgressEvery {
			return
		}
		last = time.Now()
		progress.PagesFetched, progress.PagesFailed = c.PagesFetched, c.PagesFailed+c.PagesBlocked
		s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: jobs.MustMarshal(progress)})
		if err := s.cfg.Crawls.UpdateCrawl(ctx, c); err != nil {
			s.cfg.Logger.WarnContext(ctx, "update crawl", "crawl_id", c.ID, "error", err)
		}
	}
	addErr := func(u, msg string) { // with mu held
		if len(c.Errors) < maxCrawlErrors {
			c.Errors = append(c.Errors, ragqueue.URLError{URL: u, Error: msg})
		}
	}
	store := func(ctx context.Context, p web.Page) error {
		doc, outcome, err := s.cfg.Documents.StorePage(ctx, a.Tenant, p)
		if err != nil {
			return err
		}
		var ready bool
		var ierr error
		if outcome == jobs.PageCreated || outcome == jobs.PageUpdated {
			ready, ierr = s.cfg.Documents.IngestCrawled(ctx, doc, p, outcome == jobs.PageCreated)
		}
		mu.Lock()
		defer mu.Unlock()
		switch outcome {
		case jobs.PageCreated, jobs.PageUpdated:
			progress.PagesQueued++
			if ready {
				progress.PagesReady++
			}
			if ierr != nil {
				addErr(p.URL, "could not index the page: "+jobs.FailureMessage(ierr))
			}
		case jobs.PageDuplicate:
			addErr(p.URL, fmt.Sprintf("the same content as document %s (%s); not stored again", doc.ID, doc.Source))
		case jobs.PageBusy:
			addErr(p.URL, fmt.Sprintf("document %s of this URL is still being ingested; its new content was not stored, crawl again later", doc.ID))
		}
		if !seen[doc.ID] {
			seen[doc.ID] = true
			c.Documents = append(c.Documents, doc.ID)
		}
		report()
		return nil
	}
	g, gctx := errgroup.WithContext(ctx)
	pages := make(chan web.Page, crawlStorers)
	for range crawlStorers {
		g.Go(func() error {
			for p := range pages {
				if err := store(gctx, p); err != nil {
					return err
				}
			}
			return nil
		})
	}
	onPage := func(p web.Page) error {
		s.cfg.Documents.CountFetch(nil)
		mu.Lock()
		c.PagesFetched++
		mu.Unlock()
		select {
		case pages <- p:
			return nil
		case <-gctx.Done():
			return gctx.Err()
		}
	}
	onError := func(u string, err error) {
		mu.Lock()
		defer mu.Unlock()
		s.cfg.Documents.CountFetch(err)
		if errors.Is(err, web.ErrBlocked) {
			c.PagesBlocked++
		} else {
			c.PagesFailed++
		}
		addErr(u, ragqueue.ErrorMessage(err))
		report()
	}
	_, err = web.Crawl(gctx, s.cfg.WebClient, s.cfg.Fetcher, req, onPage, onError)
	close(pages)
	if werr := g.Wait(); werr != nil {
		return fmt.Errorf("crawls: crawl %s: %w", a.CrawlID, werr)
	}
	if err != nil {
		return fmt.Errorf("crawls: crawl %s: %w", a.CrawlID, err)
	}
	c.Status = ragqueue.StateSucceeded
	progress.PagesFetched, progress.PagesFailed = c.PagesFetched, c.PagesFailed+c.PagesBlocked
	if d, err := time.ParseDuration(c.Spec.Refresh); err == nil && d > 0 {
		// Microseconds, as the stores keep it: the run's job id is derived from it.
		next := time.Now().UTC().Add(d).Truncate(time.Microsecond)
		c.NextRunAt = &next
	}
	if err := s.cfg.Crawls.UpdateCrawl(ctx, c); err != nil && !ragqueue.IsNotFound(err) {
		return fmt.Errorf("crawls: record crawl %s: %w", a.CrawlID, err)
	}
	if c.NextRunAt != nil {
		// Recorded first, so that if this enqueue is lost the reconciler
		// still knows the run is due.
		if err := s.scheduleRefresh(ctx, c); err != nil {
			s.cfg.Logger.WarnContext(ctx, "schedule crawl refresh; the reconciler will retry", "crawl_id", c.ID, "error", err)
		}
	}
	return s.cfg.Tracker.Succeeded(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{
		Progress: jobs.MustMarshal(progress),
		Result:   jobs.MustMarshal(map[string]any{"crawl_id": c.ID, "documents": len(c.Documents)}),
	})
}
