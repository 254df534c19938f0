package jobs_test

import (
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/jobstest"
	"github.com/ragqueue/ragqueue/retrieval"
)

// The shared test env and fakes, under the names these tests use.
type (
	env              struct{ *jobstest.Env }
	recorder         = jobstest.Recorder
	countingEmbedder = jobstest.CountingEmbedder
	eventLog         = jobstest.EventLog
)

const (
	dim    = jobstest.Dim
	manual = jobstest.Manual
)

// newEnv builds an env on redis.
func newEnv(t testing.TB, redis asynq.RedisClientOpt) *env {
	return &env{jobstest.NewEnv(t, redis)}
}

// deps returns handler dependencies over the env; enq receives follow-up tasks.
func (e *env) deps(enq jobs.Enqueuer) jobs.Deps {
	return jobs.Deps{
		Store:     e.Store,
		Blobs:     e.Blobs,
		Index:     e.Index,
		Embedder:  retrieval.NewHashEmbedder(dim),
		Generator: retrieval.NewExtractive(),
		Chunker:   ingest.Chunker{Size: 300, Overlap: 30},
		PDF:       ingest.NewPDFParser(jobstest.TestExe(), ingest.PDFLimits{Timeout: 20 * time.Second}),
		Enqueuer:  enq,
		Logger:    e.Logger,
		// Several batches per document, so that batching and progress run.
		EmbedBatch: 3,
		// Stage tests drive the embed task themselves; TestInlineEmbed
		// covers small documents embedded by the parse task.
		InlineEmbedChunks: -1,
	}
}

// startServer runs an Asynq server with NewMux(d) until the test ends.
func (e *env) startServer(t *testing.T, d jobs.Deps) {
	t.Helper()
	e.StartServer(t, jobs.NewMux(d))
}
