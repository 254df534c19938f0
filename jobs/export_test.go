package jobs

import "context"

// LogTasksForTest exposes the task logging middleware to the benchmark.
var LogTasksForTest = logTasks

// ReconcileWithGraceForTest exposes the periodic reconciler's pass.
var ReconcileWithGraceForTest = reconcile

// IsFailureForTest exposes the server's IsFailure.
var IsFailureForTest = isFailure

// SkipStaleForTest settles a stale ingestion as the handlers NewMux(d)
// registers would (the job of version of docID, with or without a record yet).
func SkipStaleForTest(ctx context.Context, d Deps, tenant, docID, jobID string, version int, create bool) error {
	return newHandlers(d).skipStale(ctx, tenant, docID, jobID, version, create)
}
