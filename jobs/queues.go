// Package jobs is the queue core: task kinds and their typed args, Register
// and Guard, the client, tracker, server, middleware, reconciler, event
// publishing and feed, and webhook delivery. The use cases live in its
// feature packages (jobs/documents, jobs/queries, jobs/crawls, jobs/spaces).
package jobs

// Queue names. Every task goes to exactly one of them.
const (
	// QueueQueries holds question answering: short tasks a person waits for.
	QueueQueries = "queries"
	// QueueIngest holds parsing and embedding: long, bulky tasks.
	QueueIngest = "ingest"
	// QueueMaintenance holds housekeeping that may wait.
	QueueMaintenance = "maintenance"
)

// Queues returns the queue weights for an Asynq server. Priority is weighted,
// not strict: a worker picks from queries six times out of ten when all
// queues have work, so a question is never stuck behind a bulk ingestion,
// while ingestion and maintenance still progress under a steady query load.
// It returns a new map on every call.
func Queues() map[string]int {
	return map[string]int{
		QueueQueries:     6,
		QueueIngest:      3,
		QueueMaintenance: 1,
	}
}
