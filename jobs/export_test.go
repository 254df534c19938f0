package jobs

import (
	"context"
	"log/slog"
	"time"
)

// LogTasksForTest exposes the task logging middleware to the benchmark.
var LogTasksForTest = logTasks

// ReconcileWithGraceForTest runs the periodic reconciler's documents pass
// with grace.
func ReconcileWithGraceForTest(ctx context.Context, store Store, c *Client, logger *slog.Logger, grace time.Duration) (int, error) {
	return reconcile(ctx, []ReconcilePass{ReconcileDocuments(store, c, logger)}, grace)
}

// IsFailureForTest exposes the server's IsFailure.
var IsFailureForTest = isFailure

// SkipStaleForTest settles a stale ingestion as the handlers NewMux(d)
// registers would (the job of version of docID, with or without a record yet).
func SkipStaleForTest(ctx context.Context, d Deps, tenant, docID, jobID string, version int, create bool) error {
	return newHandlers(d).ing.skipStale(ctx, tenant, docID, jobID, version, create)
}
