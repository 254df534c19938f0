package queries_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// streamingGen streams fixed pieces and cites passage 1.
type streamingGen struct{ calls atomic.Int32 }

func (g *streamingGen) Name() string { return "streaming-fake" }

func (g *streamingGen) Generate(ctx context.Context, q string, ps []retrieval.Passage) (retrieval.Answer, error) {
	return g.GenerateStream(ctx, q, ps, func(string) error { return nil })
}

func (g *streamingGen) GenerateStream(_ context.Context, _ string, ps []retrieval.Passage, onToken func(string) error) (retrieval.Answer, error) {
	g.calls.Add(1)
	for _, tok := range []string{"Boil", " water", " [1]."} {
		if err := onToken(tok); err != nil {
			return retrieval.Answer{}, err
		}
	}
	return retrieval.Answer{Text: "Boil water [1].", Generator: g.Name(), Citations: []ragqueue.Citation{{Index: 1, DocumentID: ps[0].DocumentID, ChunkID: ps[0].ChunkID}}}, nil
}

func TestJobsPublishEvents(t *testing.T) {
	t.Parallel()
	e := newEnv(t, redistest.Miniredis(t))
	log := &eventLog{}
	gen := &streamingGen{}
	d := e.Deps(e.Asynq)
	d.Events, d.Generator, d.InlineEmbedChunks = log, gen, 0
	e.StartWorker(t, d)

	doc := e.AddDocument(t, "acme", ingest.TypeText, "To purify water, boil it for one minute at a rolling boil.")
	require.NoError(t, e.EnqueueIngest(t.Context(), doc))
	require.Equal(t, ragqueue.StateSucceeded, e.WaitJob(t, "acme", doc.JobID).State)
	require.Eventually(t, func() bool {
		ts := log.Types("acme", doc.JobID)
		return len(ts) > 0 && ts[len(ts)-1] == ragqueue.EventDone
	}, 10*time.Second, 5*time.Millisecond)
	ts := log.Types("acme", doc.JobID)
	require.Equal(t, ragqueue.EventProgress, ts[0])
	require.Equal(t, []string{ragqueue.EventResult, ragqueue.EventDone}, ts[len(ts)-2:])

	job, err := e.EnqueueQuery(t.Context(), "acme", "how do I purify water?", 3)
	require.NoError(t, err)
	done := e.WaitJob(t, "acme", job.ID)
	require.Equal(t, ragqueue.StateSucceeded, done.State)
	require.Eventually(t, func() bool { return len(log.Types("acme", job.ID)) == 6 }, 10*time.Second, 5*time.Millisecond)
	require.Equal(t, []string{"token", "token", "token", "citation", "result", "done"}, log.Types("acme", job.ID))
	result := log.Events("acme", job.ID)[4].Data
	require.JSONEq(t, string(done.Result), string(result), "the result event is the job's result")
}

// A query whose job was canceled before a worker took it is not run.
func TestCanceledQueryIsNotRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, redistest.Miniredis(t))
	gen := &streamingGen{}
	d := e.Deps(e.Asynq)
	d.Events, d.Generator = &eventLog{}, gen

	job, err := e.EnqueueQuery(t.Context(), "acme", "how do I purify water?", 3)
	require.NoError(t, err)
	st, msg := ragqueue.StateCanceled, "canceled by the test"
	require.NoError(t, e.Store.UpdateJob(t.Context(), "acme", job.ID, ragqueue.JobUpdate{State: &st, Error: &msg}))
	e.StartWorker(t, d)
	require.Eventually(t, func() bool {
		info, err := e.Inspector.GetTaskInfo(jobs.QueueQueries, job.ID)
		return errors.Is(err, asynq.ErrTaskNotFound) || (err == nil && info.State == asynq.TaskStateCompleted)
	}, 10*time.Second, 5*time.Millisecond, "the task is taken and finishes")
	got := e.GetJob(t, "acme", job.ID)
	require.Equal(t, ragqueue.StateCanceled, got.State)
	require.Zero(t, gen.calls.Load(), "the generator never ran")
}
