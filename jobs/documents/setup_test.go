package documents_test

import (
	"testing"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue/jobs/jobstest"
	"github.com/ragqueue/ragqueue/jobs/pipelinetest"
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
