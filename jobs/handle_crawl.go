package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/web"
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
func (h *handlers) crawl(ctx context.Context, a CrawlArgs) error {
	c, err := h.Store.GetCrawl(ctx, a.Tenant, a.CrawlID)
	if ragqueue.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("jobs: get crawl %s: %w", a.CrawlID, err)
	}
	if c.Status.Terminal() {
		if c.NextRunAt == nil || a.JobID != refreshJobID(c.ID, *c.NextRunAt) {
			return nil // done, or a run that was superseded
		}
		// A scheduled refresh: this run gets its own job.
		c.JobID, c.NextRunAt, c.CompletedAt = a.JobID, nil, nil
	}
	if h.Fetcher == nil {
		return Permanent(errors.New("jobs: web fetching is not configured in this worker"))
	}
	c.Status, c.PagesFetched, c.PagesFailed, c.PagesBlocked = ragqueue.StateActive, 0, 0, 0
	c.Documents, c.Errors = []string{}, []ragqueue.URLError{}
	if err := h.Store.UpdateCrawl(ctx, c); err != nil {
		return fmt.Errorf("jobs: start crawl %s: %w", a.CrawlID, err)
	}
	h.tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{State: StatePtr(ragqueue.StateActive), Progress: MustMarshal(crawlProgress{})})

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
	report := func() { // with mu held; at most every ProgressEvery
		if time.Since(last) < ProgressEvery {
			return
		}
		last = time.Now()
		progress.PagesFetched, progress.PagesFailed = c.PagesFetched, c.PagesFailed+c.PagesBlocked
		h.tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: MustMarshal(progress)})
		if err := h.Store.UpdateCrawl(ctx, c); err != nil {
			h.Logger.WarnContext(ctx, "update crawl", "crawl_id", c.ID, "error", err)
		}
	}
	addErr := func(u, msg string) { // with mu held
		if len(c.Errors) < maxCrawlErrors {
			c.Errors = append(c.Errors, ragqueue.URLError{URL: u, Error: msg})
		}
	}
	store := func(ctx context.Context, p web.Page) error {
		doc, outcome, err := h.ing.StorePage(ctx, a.Tenant, p)
		if err != nil {
			return err
		}
		var ready bool
		var ierr error
		if outcome == PageCreated || outcome == PageUpdated {
			ready, ierr = h.ing.IngestCrawled(ctx, doc, p, outcome == PageCreated)
		}
		mu.Lock()
		defer mu.Unlock()
		switch outcome {
		case PageCreated, PageUpdated:
			progress.PagesQueued++
			if ready {
				progress.PagesReady++
			}
			if ierr != nil {
				addErr(p.URL, "could not index the page: "+FailureMessage(ierr))
			}
		case PageDuplicate:
			addErr(p.URL, fmt.Sprintf("the same content as document %s (%s); not stored again", doc.ID, doc.Source))
		case PageBusy:
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
		h.ing.CountFetch(nil)
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
		h.ing.CountFetch(err)
		if errors.Is(err, web.ErrBlocked) {
			c.PagesBlocked++
		} else {
			c.PagesFailed++
		}
		addErr(u, ragqueue.ErrorMessage(err))
		report()
	}
	_, err = web.Crawl(gctx, h.WebClient, h.Fetcher, req, onPage, onError)
	close(pages)
	if werr := g.Wait(); werr != nil {
		return fmt.Errorf("jobs: crawl %s: %w", a.CrawlID, werr)
	}
	if err != nil {
		return fmt.Errorf("jobs: crawl %s: %w", a.CrawlID, err)
	}
	c.Status = ragqueue.StateSucceeded
	progress.PagesFetched, progress.PagesFailed = c.PagesFetched, c.PagesFailed+c.PagesBlocked
	if d, err := time.ParseDuration(c.Spec.Refresh); err == nil && d > 0 {
		// Microseconds, as the stores keep it: the run's job id is derived from it.
		next := time.Now().UTC().Add(d).Truncate(time.Microsecond)
		c.NextRunAt = &next
	}
	if err := h.Store.UpdateCrawl(ctx, c); err != nil && !ragqueue.IsNotFound(err) {
		return fmt.Errorf("jobs: record crawl %s: %w", a.CrawlID, err)
	}
	if c.NextRunAt != nil {
		// Recorded first, so that if this enqueue is lost the reconciler
		// still knows the run is due.
		if err := h.client.scheduleRefresh(ctx, c); err != nil {
			h.Logger.WarnContext(ctx, "schedule crawl refresh; the reconciler will retry", "crawl_id", c.ID, "error", err)
		}
	}
	return h.tracker.Succeeded(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{
		Progress: MustMarshal(progress),
		Result:   MustMarshal(map[string]any{"crawl_id": c.ID, "documents": len(c.Documents)}),
	})
}

// crawlFailed records a failed crawl attempt on its job and, when final,
// on the crawl.
func (h *handlers) crawlFailed(ctx context.Context, a CrawlArgs, err error) error {
	ctx, cancel := SettleContext(ctx)
	defer cancel()
	if h.tracker.Failed(ctx, a.Tenant, a.JobID, err) {
		if c, gerr := h.Store.GetCrawl(ctx, a.Tenant, a.CrawlID); gerr == nil {
			c.Status = ragqueue.StateFailed
			c.Errors = append(c.Errors, ragqueue.URLError{Error: FailureMessage(err)})
			if uerr := h.Store.UpdateCrawl(ctx, c); uerr != nil {
				h.Logger.WarnContext(ctx, "record failed crawl", "crawl_id", a.CrawlID, "error", uerr)
			}
		}
	}
	return err
}

// EnqueueCrawl records crawl c (its ID, JobID, Tenant and Spec set) with
// its job, then enqueues the task that runs it. The task ID names the crawl
// and its job (CrawlArgs.TaskID), so enqueueing it twice runs it once.
func (c *Client) EnqueueCrawl(ctx context.Context, cr ragqueue.Crawl, store ragqueue.CrawlStore, opts ...EnqueueOption) error {
	if err := c.EnsureJob(ctx, QueuedJob(cr.JobID, cr.Tenant, ragqueue.KindCrawl, opts...)); err != nil {
		return err
	}
	if err := store.CreateCrawl(ctx, cr); err != nil {
		return fmt.Errorf("jobs: create crawl: %w", err)
	}
	if _, err := c.enqueueCrawl(ctx, cr); err != nil {
		c.SettleUnqueued(ctx, cr.Tenant, cr.JobID, ragqueue.StateFailed, UnqueuedMessage)
		sctx, cancel := SettleContext(ctx)
		defer cancel()
		cr.Status = ragqueue.StateFailed
		_ = store.UpdateCrawl(sctx, cr)
		return err
	}
	return nil
}

// refreshJobID is the job of the refresh run of crawl id due at next: the
// same for every process that schedules it, so scheduling twice (the crawl
// task and the reconciler) makes one run.
func refreshJobID(id string, next time.Time) string {
	return uuid.NewSHA1(refreshNamespace, []byte(id+"@"+next.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano))).String()
}

// refreshNamespace scopes refreshJobID's UUIDs.
var refreshNamespace = uuid.MustParse("6f1f7c1e-3a57-4d0e-9a38-2f4a7c0b9e61")

// scheduleRefresh records the job of a refreshing crawl's next run and
// enqueues its task to be processed at cr.NextRunAt.
func (c *Client) scheduleRefresh(ctx context.Context, cr ragqueue.Crawl) error {
	jobID := refreshJobID(cr.ID, *cr.NextRunAt)
	if err := c.EnsureJob(ctx, QueuedJob(jobID, cr.Tenant, ragqueue.KindCrawl)); err != nil {
		return err
	}
	task, err := NewTask(CrawlArgs{Tenant: cr.Tenant, CrawlID: cr.ID, JobID: jobID}, asynq.ProcessAt(*cr.NextRunAt))
	if err != nil {
		return err
	}
	if _, err := c.q.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("jobs: schedule crawl %s: %w: %w", cr.ID, ErrQueueUnavailable(), err)
	}
	return nil
}

// enqueueCrawl enqueues the task of a recorded crawl's current run (its
// JobID); a run whose task Redis still holds is not enqueued again.
func (c *Client) enqueueCrawl(ctx context.Context, cr ragqueue.Crawl) (enqueued bool, err error) {
	task, err := NewTask(CrawlArgs{Tenant: cr.Tenant, CrawlID: cr.ID, JobID: cr.JobID})
	if err != nil {
		return false, err
	}
	_, err = c.q.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("jobs: enqueue crawl %s: %w: %w", cr.ID, ErrQueueUnavailable(), err)
	}
	return true, nil
}
