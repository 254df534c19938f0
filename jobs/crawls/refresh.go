package crawls

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

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
func (s *Service) scheduleRefresh(ctx context.Context, cr ragqueue.Crawl) error {
	jobID := refreshJobID(cr.ID, *cr.NextRunAt)
	if err := s.cfg.Client.EnsureJob(ctx, jobs.QueuedJob(jobID, cr.Tenant, ragqueue.KindCrawl)); err != nil {
		return err
	}
	args := jobs.CrawlArgs{Tenant: cr.Tenant, CrawlID: cr.ID, JobID: jobID}
	if _, err := s.cfg.Client.Enqueue(ctx, args, asynq.ProcessAt(*cr.NextRunAt)); err != nil {
		return fmt.Errorf("crawls: schedule crawl %s: %w: %w", cr.ID, jobs.ErrQueueUnavailable(), err)
	}
	return nil
}

// enqueueRun enqueues the task of a recorded crawl's current run (its
// JobID); a run whose task Redis still holds is not enqueued again.
func (s *Service) enqueueRun(ctx context.Context, cr ragqueue.Crawl) (enqueued bool, err error) {
	enqueued, err = s.cfg.Client.Enqueue(ctx, jobs.CrawlArgs{Tenant: cr.Tenant, CrawlID: cr.ID, JobID: cr.JobID})
	if err != nil {
		return false, fmt.Errorf("crawls: enqueue crawl %s: %w: %w", cr.ID, jobs.ErrQueueUnavailable(), err)
	}
	return enqueued, nil
}
