package queries_test

import (
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
)

func TestHandlersRefuseBadPayloads(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	mux := b.WorkerMux(b.Deps(&recorder{}))
	for _, task := range []*asynq.Task{
		asynq.NewTask(jobs.TaskParse, []byte(`{"tenant":"acme"`)),
		asynq.NewTask(jobs.TaskParse, []byte(`{"tenant":"acme","document_id":"d","job_id":"j","version":0}`)),
		asynq.NewTask(jobs.TaskEmbed, []byte(`{"document_id":"d","job_id":"j","version":1}`)),
		asynq.NewTask(jobs.TaskQuery, []byte(`{"tenant":"acme","job_id":"j"}`)),
	} {
		err := mux.ProcessTask(t.Context(), task)
		require.ErrorIs(t, err, asynq.SkipRetry, "payload %s", task.Payload())
	}
}
