package jobs

import (
	"context"
	"fmt"
	"time"

	"github.com/ragqueue/ragqueue"
)

// Wait blocks until the job is terminal (succeeded, failed or canceled) and
// returns it. When ctx ends first it returns the job as last seen and an
// ETIMEOUT error wrapping ctx's error.
func (c *Client) Wait(ctx context.Context, tenant, jobID string) (ragqueue.Job, error) {
	const minDelay, maxDelay = 5 * time.Millisecond, 50 * time.Millisecond
	delay := minDelay
	var timer *time.Timer
	for {
		job, err := c.store.GetJob(ctx, tenant, jobID)
		switch {
		case err != nil && ctx.Err() != nil:
			return job, fmt.Errorf("jobs: wait for job %s: %w: %w", jobID, errWaitTimeout(), ctx.Err())
		case err != nil:
			return job, fmt.Errorf("jobs: wait for job %s: %w", jobID, err)
		case job.State.Terminal():
			return job, nil
		}
		if timer == nil {
			timer = time.NewTimer(delay)
			defer timer.Stop()
		} else {
			timer.Reset(delay)
		}
		select {
		case <-ctx.Done():
			return job, fmt.Errorf("jobs: wait for job %s: %w: %w", jobID, errWaitTimeout(), ctx.Err())
		case <-timer.C:
		}
		delay = min(2*delay, maxDelay)
	}
}

// errWaitTimeout is what the API shows when a bounded wait runs out.
func errWaitTimeout() error {
	return ragqueue.Errorf(ragqueue.ETIMEOUT, "the job did not finish in time; poll it for the result")
}
