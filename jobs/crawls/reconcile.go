package crawls

import (
	"context"
	"fmt"
	"time"

	"github.com/ragqueue/ragqueue/jobs"
)

// ReconcilePass is the crawls' reconciliation pass (a jobs.ReconcilePass):
// every unfinished crawl is enqueued again (it starts over; its pages are
// deduplicated by URL), and a refreshing crawl's due run is scheduled
// again. grace does not apply.
func (s *Service) ReconcilePass(ctx context.Context, _ time.Duration) (requeued int, err error) {
	crawls, err := s.cfg.Crawls.UnfinishedCrawls(ctx, jobs.ReconcileLimit)
	if err != nil {
		return 0, fmt.Errorf("crawls: list unfinished crawls: %w", err)
	}
	for _, cr := range crawls {
		if cr.Status.Terminal() && cr.NextRunAt != nil {
			// A refresh run is due at NextRunAt; its task ID makes this a
			// no-op when Redis still holds it.
			if err := s.scheduleRefresh(ctx, cr); err != nil {
				return requeued, err
			}
			continue
		}
		enqueued, err := s.enqueueRun(ctx, cr)
		if err != nil {
			return requeued, err
		}
		if enqueued {
			requeued++
			s.cfg.Logger.InfoContext(ctx, "reconcile: re-enqueued lost crawl", "crawl_id", cr.ID, "tenant", cr.Tenant, "job_id", cr.JobID)
		}
	}
	return requeued, nil
}
