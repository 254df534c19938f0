package queries

import (
	"context"
	"time"

	"github.com/ragqueue/ragqueue/jobs"
)

// cancelTimeout bounds the cancellation of a job whose client went away.
const cancelTimeout = 5 * time.Second

// cancelReason is the error a query canceled by Cancel records.
const cancelReason = "canceled: the client that started the query disconnected"

// Cancel cancels the tenant's query job jobID, whose streaming client went
// away: the record says canceled (and its followers are told), a queued
// task is deleted and a running one is cancelled, which cancels the
// provider call. It runs even when ctx has ended (the client's leaving
// usually ends it), bounded by its own 5 s. Without a Config.Canceler it
// does nothing.
func (s *Service) Cancel(ctx context.Context, tenant, jobID string) {
	if s.cfg.Canceler == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelTimeout)
	defer cancel()
	if s.cfg.Canceler.Cancel(ctx, tenant, jobID, jobs.QueueQueries, cancelReason) {
		s.cfg.Logger.InfoContext(ctx, "query canceled: its streaming client went away", "job_id", jobID, "tenant", tenant)
	}
}
