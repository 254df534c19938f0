package jobs

// LogTasksForTest exposes the task logging middleware to the benchmark.
var LogTasksForTest = logTasks

// IsFailureForTest exposes the server's IsFailure.
var IsFailureForTest = isFailure
