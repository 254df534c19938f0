package queries_test

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/jobstest"
	"github.com/ragqueue/ragqueue/jobs/pipelinetest"
)

// The shared test env, fakes and handler dependencies, under the names
// these tests use.
type (
	env              struct{ *jobstest.Env }
	recorder         = jobstest.Recorder
	countingEmbedder = jobstest.CountingEmbedder
	eventLog         = jobstest.EventLog
	deps             = pipelinetest.Deps
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
func (e *env) deps(enq jobs.Enqueuer) deps { return pipelinetest.Defaults(e.Env, enq) }

// workerMux is the worker's mux over d.
func (e *env) workerMux(d deps) *asynq.ServeMux { return d.WorkerMux() }

// startServer runs an Asynq server with workerMux(d) until the test ends.
func (e *env) startServer(t *testing.T, d deps) {
	t.Helper()
	e.StartServer(t, d.WorkerMux())
}

// enqueueIngest starts the ingestion of doc through the env's queue, as the
// API does.
func (e *env) enqueueIngest(ctx context.Context, doc ragqueue.Document, opts ...jobs.EnqueueOption) error {
	return e.deps(e.Asynq).Documents(e.Client).EnqueueIngest(ctx, doc, opts...)
}

// enqueueQuery asks question of tenant's documents with up to topK passages
// through the env's queue, as the API does.
func (e *env) enqueueQuery(ctx context.Context, tenant, question string, topK int, urls ...string) (ragqueue.Job, error) {
	return pipelinetest.EnqueueQuery(ctx, e.deps(e.Asynq), e.Client, tenant, question, topK, urls...)
}

type pipelineBundle struct {
	*env
	tenant string
}

func setupPipeline(t *testing.T) *pipelineBundle {
	t.Helper()
	return &pipelineBundle{env: newEnv(t, redisServer.NewDB(t)), tenant: "acme"}
}
