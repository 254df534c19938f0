package jobs

// LogTasksForTest exposes the task logging middleware to the benchmark.
var LogTasksForTest = logTasks

// ReconcileWithGraceForTest exposes the periodic reconciler's pass.
var ReconcileWithGraceForTest = reconcile

// IsFailureForTest exposes the server's IsFailure.
var IsFailureForTest = isFailure
