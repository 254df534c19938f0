package jobs_test

import (
	"context"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/pdf"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/jobstest"
	"github.com/ragqueue/ragqueue/jobs/queries"
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

// deps is what the tests give the worker's task handlers: jobs.Deps and
// the query handler's.
type deps struct {
	jobs.Deps
	Generator    retrieval.Generator
	Cache        *queries.AnswerCache
	TokenBudget  queries.TokenBudget
	QueryMaxURLs int
	Fetcher      *web.Fetcher
}

// deps returns handler dependencies over the env; enq receives follow-up tasks.
func (e *env) deps(enq jobs.Enqueuer) deps {
	return deps{Generator: retrieval.NewExtractive(), Deps: jobs.Deps{
		Store:    e.Store,
		Blobs:    e.Blobs,
		Index:    e.Index,
		Embedder: retrieval.NewHashEmbedder(dim),
		Chunker:  ingest.Chunker{Size: 300, Overlap: 30},
		PDF:      pdf.NewParser(jobstest.TestExe(), pdf.Limits{Timeout: 20 * time.Second}),
		Enqueuer: enq,
		Logger:   e.Logger,
		// Several batches per document, so that batching and progress run.
		EmbedBatch: 3,
		// Stage tests drive the embed task themselves; TestInlineEmbed
		// covers small documents embedded by the parse task.
		InlineEmbedChunks: -1,
	}}
}

// queriesOf is the query use case over d, enqueueing on the env's queue.
func (e *env) queriesOf(d deps) *queries.Service {
	spaces := d.Spaces
	if spaces == nil {
		spaces = retrieval.StaticSpaces(d.Embedder, d.Index)
	}
	tracker := jobs.NewTracker(d.Store, d.Enqueuer, d.Events, e.Logger)
	ing := jobs.NewIngestion(jobs.IngestionConfig{
		Store: d.Store, Blobs: d.Blobs, PutBlob: d.PutBlob, Spaces: spaces, Chunker: d.Chunker, PDF: d.PDF,
		EmbedBatch: d.EmbedBatch, Client: jobs.NewClient(d.Enqueuer, d.Store, e.Logger), Tracker: tracker, Logger: e.Logger,
	})
	return queries.New(queries.Config{
		Conversations: d.Store, Spaces: spaces, Generator: d.Generator, Documents: ing, Fetcher: d.Fetcher,
		MaxURLs: d.QueryMaxURLs, Cache: d.Cache, TokenBudget: d.TokenBudget,
		Client: e.Client, Tracker: tracker, Logger: e.Logger,
	})
}

// workerMux is the worker's mux over d: every task handler.
func (e *env) workerMux(d deps) *asynq.ServeMux {
	mux := jobs.NewMux(d.Deps)
	e.queriesOf(d).Register(mux)
	return mux
}

// enqueueQuery asks question of tenant's documents with up to topK passages.
func (e *env) enqueueQuery(ctx context.Context, tenant, question string, topK int, urls ...string) (ragqueue.Job, error) {
	return e.queriesOf(e.deps(e.Asynq)).Enqueue(ctx, jobs.QueryArgs{Tenant: tenant, Question: question, TopK: topK, URLs: urls})
}

// startServer runs an Asynq server with workerMux(d) until the test ends.
func (e *env) startServer(t *testing.T, d deps) {
	t.Helper()
	e.StartServer(t, e.workerMux(d))
}
