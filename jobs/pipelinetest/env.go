package pipelinetest

import (
	"context"
	"testing"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/jobstest"
)

// Env is the shared test env with the worker's handlers over it, as the
// feature packages' end-to-end tests drive it.
type Env struct{ *jobstest.Env }

// NewEnv builds an Env on redis.
func NewEnv(t testing.TB, redis asynq.RedisClientOpt) *Env {
	return &Env{jobstest.NewEnv(t, redis)}
}

// Deps returns handler dependencies over the env; enq receives follow-up
// tasks.
func (e *Env) Deps(enq jobs.Enqueuer) Deps { return Defaults(e.Env, enq) }

// WorkerMux is the worker's mux over d.
func (e *Env) WorkerMux(d Deps) *asynq.ServeMux { return d.WorkerMux() }

// StartWorker runs an Asynq server with the worker's mux over d until the
// test ends.
func (e *Env) StartWorker(t *testing.T, d Deps) {
	t.Helper()
	e.StartServer(t, d.WorkerMux())
}

// EnqueueIngest starts the ingestion of doc through the env's queue, as the
// API does.
func (e *Env) EnqueueIngest(ctx context.Context, doc ragqueue.Document, opts ...jobs.EnqueueOption) error {
	return e.Deps(e.Asynq).Documents(e.Client).EnqueueIngest(ctx, doc, opts...)
}

// EnqueueQuery asks question of tenant's documents with up to topK
// passages through the env's queue, as the API does.
func (e *Env) EnqueueQuery(ctx context.Context, tenant, question string, topK int, urls ...string) (ragqueue.Job, error) {
	return EnqueueQuery(ctx, e.Deps(e.Asynq), e.Client, tenant, question, topK, urls...)
}
