package jobs_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// pubLog records published events.
type pubLog struct {
	mu     sync.Mutex
	events []string
}

func (p *pubLog) PublishEvent(_ context.Context, _, _ string, ev ragqueue.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, ev.Type)
	return nil
}

// taskLog records what a TaskCanceler was asked.
type taskLog struct{ calls []string }

func (l *taskLog) DeleteTask(queue, id string) error {
	l.calls = append(l.calls, "delete "+queue+" "+id)
	return asynq.ErrTaskNotFound
}

func (l *taskLog) CancelProcessing(id string) error {
	l.calls = append(l.calls, "cancel "+id)
	return nil
}

// TestCancelerCancelsUnfinishedJobs records the cancellation, tells the
// followers, deletes the queued task and cancels the running one; a
// finished or unknown job is left alone.
func TestCancelerCancelsUnfinishedJobs(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newMemJobs(
		ragqueue.Job{ID: "q1", Tenant: "acme", Type: ragqueue.KindQuery, State: ragqueue.StateActive, UpdatedAt: time.Now()},
		finishedJob("q2", ragqueue.StateSucceeded, time.Hour),
	)
	pub, tasks := &pubLog{}, &taskLog{}
	c := jobs.NewCanceler(store, pub, tasks, nil)

	require.True(t, c.Cancel(ctx, "acme", "q1", jobs.QueueQueries, "canceled: nobody waits"))
	j, err := store.GetJob(ctx, "acme", "q1")
	require.NoError(t, err)
	require.Equal(t, ragqueue.StateCanceled, j.State)
	require.Equal(t, "canceled: nobody waits", j.Error)
	require.Equal(t, []string{ragqueue.EventError, ragqueue.EventDone}, pub.events)
	require.Equal(t, []string{"delete " + jobs.QueueQueries + " q1", "cancel q1"}, tasks.calls)

	require.False(t, c.Cancel(ctx, "acme", "q2", jobs.QueueQueries, "late"))
	require.False(t, c.Cancel(ctx, "other", "q1", jobs.QueueQueries, "not theirs"))
	require.False(t, c.Cancel(ctx, "acme", "nope", jobs.QueueQueries, "unknown"))
	require.Len(t, tasks.calls, 2)
	j, _ = store.GetJob(ctx, "acme", "q2")
	require.Equal(t, ragqueue.StateSucceeded, j.State)
}
