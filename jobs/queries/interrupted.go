package queries

import (
	"context"
	"fmt"

	"github.com/ragqueue/ragqueue"
)

// interruptedMessage is the error a query job gets when a restart lost it.
const interruptedMessage = "interrupted by a restart; ask again"

// FailInterrupted fails every unfinished query job. It is for
// embedded mode at start: its in-memory Redis lost the tasks, and a question
// is cheap to ask again whereas a client waiting forever is not. Ingest jobs
// are left to the reconciler. It returns how many jobs it failed.
func FailInterrupted(ctx context.Context, store ragqueue.JobStore) (int, error) {
	const page = 1000
	failed, msg := ragqueue.StateFailed, interruptedMessage
	n := 0
	for {
		// Only queries: any number of unfinished ingest jobs ahead of them
		// must not hide them.
		jobs, err := store.UnfinishedJobs(ctx, ragqueue.KindQuery, page)
		if err != nil {
			return n, fmt.Errorf("queries: fail interrupted queries: %w", err)
		}
		for _, j := range jobs {
			if err := store.UpdateJob(ctx, j.Tenant, j.ID, ragqueue.JobUpdate{State: &failed, Error: &msg}); err != nil {
				return n, fmt.Errorf("queries: fail interrupted query %s: %w", j.ID, err)
			}
			n++
		}
		// Failed jobs drop out of the listing: go on while pages are full.
		if len(jobs) < page {
			return n, nil
		}
	}
}
