package spaces_test

import (
	"testing"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/jobstest"
	"github.com/ragqueue/ragqueue/jobs/pipelinetest"
	"github.com/ragqueue/ragqueue/jobs/spaces"
	"github.com/ragqueue/ragqueue/retrieval"
)

// The shared test env, fakes and handler dependencies, under the names
// these tests use.
type (
	env              struct{ *pipelinetest.Env }
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
	return &env{pipelinetest.NewEnv(t, redis)}
}

type pipelineBundle struct {
	*env
	tenant string
}

func setupPipeline(t *testing.T) *pipelineBundle {
	t.Helper()
	return &pipelineBundle{env: newEnv(t, redisServer.NewDB(t)), tenant: "acme"}
}

// service is the re-indexing use case over d (its Spaces set), building
// target embedders with factory.
func (e *env) service(d deps, factory retrieval.EmbedderFactory) *spaces.Service {
	return spaces.New(spaces.Config{
		Spaces: d.Spaces, Factory: factory, Documents: d.Documents(nil),
		Client: jobs.NewClient(d.Enqueuer, d.Store, e.Logger), Tracker: d.Tracker(), Logger: e.Logger,
	})
}

// startServerWith runs an Asynq server with workerMux(d) and svc's handler
// until the test ends.
func (e *env) startServerWith(t *testing.T, d deps, svc *spaces.Service) {
	t.Helper()
	mux := d.WorkerMux()
	svc.Register(mux)
	e.StartServer(t, mux)
}
