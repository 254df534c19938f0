package crawls

import (
	"context"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// crawlFailed records a failed crawl attempt on its job and, when final,
// on the crawl.
func (s *Service) crawlFailed(ctx context.Context, a jobs.CrawlArgs, err error) error {
	ctx, cancel := jobs.SettleContext(ctx)
	defer cancel()
	if s.cfg.Tracker.Failed(ctx, a.Tenant, a.JobID, err) {
		if c, gerr := s.cfg.Crawls.GetCrawl(ctx, a.Tenant, a.CrawlID); gerr == nil {
			c.Status = ragqueue.StateFailed
			c.Errors = append(c.Errors, ragqueue.URLError{Error: jobs.FailureMessage(err)})
			if uerr := s.cfg.Crawls.UpdateCrawl(ctx, c); uerr != nil {
				s.cfg.Logger.WarnContext(ctx, "record failed crawl", "crawl_id", a.CrawlID, "error", uerr)
			}
		}
	}
	return err
}
