package jobs_test

import (
	"testing"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue/jobs/jobstest"
)

// env is the shared test env.
type env struct{ *jobstest.Env }

// newEnv builds an env on redis.
func newEnv(t testing.TB, redis asynq.RedisClientOpt) *env {
	return &env{jobstest.NewEnv(t, redis)}
}

type pipelineBundle struct {
	*env
	tenant string
}

func setupPipeline(t *testing.T) *pipelineBundle {
	t.Helper()
	return &pipelineBundle{env: newEnv(t, redisServer.NewDB(t)), tenant: "acme"}
}
