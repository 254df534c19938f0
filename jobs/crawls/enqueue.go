package crawls

import (
	"context"
	"fmt"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// Enqueue records crawl cr (its ID, JobID, Tenant and Spec set) with its
// job (adjusted by opts), then enqueues the task that runs it. The task ID
// names the crawl and its job (jobs.CrawlArgs.TaskID), so enqueueing it
// twice runs it once. A task that cannot be enqueued fails the job and the
// crawl.
func (s *Service) Enqueue(ctx context.Context, cr ragqueue.Crawl, opts ...jobs.EnqueueOption) error {
	if err := s.cfg.Client.EnsureJob(ctx, jobs.QueuedJob(cr.JobID, cr.Tenant, ragqueue.KindCrawl, opts...)); err != nil {
		return err
	}
	if err := s.cfg.Crawls.CreateCrawl(ctx, cr); err != nil {
		return fmt.Errorf("crawls: create crawl: %w", err)
	}
	if _, err := s.enqueueRun(ctx, cr); err != nil {
		s.cfg.Client.SettleUnqueued(ctx, cr.Tenant, cr.JobID, ragqueue.StateFailed, jobs.UnqueuedMessage)
		sctx, cancel := jobs.SettleContext(ctx)
		defer cancel()
		cr.Status = ragqueue.StateFailed
		_ = s.cfg.Crawls.UpdateCrawl(sctx, cr)
		return err
	}
	return nil
}
