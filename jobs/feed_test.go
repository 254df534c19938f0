package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// memJobs is a JobStore of jobs kept in memory.
type memJobs struct {
	mu   sync.Mutex
	jobs map[string]ragqueue.Job
}

func newMemJobs(js ...ragqueue.Job) *memJobs {
	m := &memJobs{jobs: make(map[string]ragqueue.Job)}
	for _, j := range js {
		m.jobs[j.Tenant+"/"+j.ID] = j
	}
	return m
}

func (m *memJobs) CreateJob(_ context.Context, j ragqueue.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[j.Tenant+"/"+j.ID] = j
	return nil
}

func (m *memJobs) GetJob(_ context.Context, tenant, id string) (ragqueue.Job, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[tenant+"/"+id]
	if !ok {
		return ragqueue.Job{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "job %s not found", id)
	}
	return j, nil
}

func (m *memJobs) UpdateJob(_ context.Context, tenant, id string, u ragqueue.JobUpdate) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	j, ok := m.jobs[tenant+"/"+id]
	if !ok {
		return ragqueue.Errorf(ragqueue.ENOTFOUND, "job %s not found", id)
	}
	if u.State != nil {
		j.State = *u.State
	}
	if u.Error != nil {
		j.Error = *u.Error
	}
	j.UpdatedAt = time.Now()
	m.jobs[tenant+"/"+id] = j
	return nil
}

func (m *memJobs) UnfinishedJobs(context.Context, string, int) ([]ragqueue.Job, error) {
	return nil, nil
}

// memEvents is an EventSource over fixed streams; a stream that is not in
// it does not exist.
type memEvents map[string][]ragqueue.EventEntry

func (m memEvents) Subscribe(_ context.Context, tenant, jobID, lastID string) (jobs.Subscription, error) {
	if lastID == "" {
		lastID = ragqueue.EventIDStart
	}
	var after []ragqueue.EventEntry
	for _, e := range m[tenant+"/"+jobID] {
		if ragqueue.EventIDAfter(e.ID, lastID) {
			after = append(after, e)
		}
	}
	return &memSub{backlog: after}, nil
}

func (m memEvents) Exists(_ context.Context, tenant, jobID string) (bool, error) {
	_, ok := m[tenant+"/"+jobID]
	return ok, nil
}

// memSub hands out its backlog once, then waits for nothing.
type memSub struct{ backlog []ragqueue.EventEntry }

func (s *memSub) Next(ctx context.Context, wait time.Duration) ([]ragqueue.EventEntry, error) {
	if len(s.backlog) > 0 {
		got := s.backlog
		s.backlog = nil
		return got, nil
	}
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(wait):
		return nil, nil
	}
}

func (s *memSub) Close() {}

func entry(id, typ string) ragqueue.EventEntry {
	return ragqueue.EventEntry{ID: id, Event: ragqueue.Event{Type: typ, Data: json.RawMessage(`{}`)}}
}

// follow runs Feed.Follow and returns the IDs and types it emitted.
func follow(t *testing.T, f *jobs.Feed, jobID, lastID string) (ids, types []string, finished bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	finished, err := f.Follow(ctx, "acme", jobID, lastID, func(e ragqueue.EventEntry) error {
		ids = append(ids, e.ID)
		types = append(types, e.Event.Type)
		return nil
	}, func() error { return nil })
	require.NoError(t, err)
	return ids, types, finished
}

func finishedJob(id string, st ragqueue.State, ago time.Duration) ragqueue.Job {
	j := ragqueue.Job{ID: id, Tenant: "acme", Type: ragqueue.KindQuery, State: st, UpdatedAt: time.Now().Add(-ago)}
	if st == ragqueue.StateSucceeded {
		j.Result = json.RawMessage(`{"answer":"42"}`)
	} else {
		j.Error = "it broke"
	}
	return j
}

// TestFeedReplaysTheStream hands over the entries after the client's last,
// up to done, as they are in the stream.
func TestFeedReplaysTheStream(t *testing.T) {
	t.Parallel()
	events := memEvents{"acme/q1": {
		entry("100-0", ragqueue.EventToken), entry("100-1", ragqueue.EventToken),
		entry("101-0", ragqueue.EventResult), entry("101-1", ragqueue.EventDone),
	}}
	f := jobs.NewFeed(events, newMemJobs(finishedJob("q1", ragqueue.StateSucceeded, time.Hour)), jobs.FeedOptions{})

	ids, types, finished := follow(t, f, "q1", "")
	require.True(t, finished)
	require.Equal(t, []string{"100-0", "100-1", "101-0", "101-1"}, ids)
	require.Equal(t, []string{ragqueue.EventToken, ragqueue.EventToken, ragqueue.EventResult, ragqueue.EventDone}, types)

	ids, _, finished = follow(t, f, "q1", "100-1")
	require.True(t, finished)
	require.Equal(t, []string{"101-0", "101-1"}, ids)
}

// TestFeedFinishesFromTheRecord: a job that finished a while ago without
// its outcome in the stream gets events made from its record, with IDs
// right after the client's last, so that resuming after one of them works.
func TestFeedFinishesFromTheRecord(t *testing.T) {
	t.Parallel()
	store := newMemJobs(
		finishedJob("cut", ragqueue.StateSucceeded, time.Hour),
		finishedJob("gone", ragqueue.StateFailed, time.Hour),
	)
	// "cut" has a stream that lost its outcome; "gone" has none (expired).
	events := memEvents{"acme/cut": {entry("7-1", ragqueue.EventToken), entry("7-2", ragqueue.EventToken)}}
	f := jobs.NewFeed(events, store, jobs.FeedOptions{Heartbeat: 5 * time.Millisecond})

	ids, types, finished := follow(t, f, "cut", "")
	require.True(t, finished)
	require.Equal(t, []string{"7-1", "7-2", "7-3", "7-4"}, ids)
	require.Equal(t, []string{ragqueue.EventToken, ragqueue.EventToken, ragqueue.EventResult, ragqueue.EventDone}, types)

	// Without a stream the made-up IDs sit below any real entry's.
	ids, types, finished = follow(t, f, "gone", "")
	require.True(t, finished)
	require.Equal(t, []string{"0-1", "0-2"}, ids)
	require.Equal(t, []string{ragqueue.EventError, ragqueue.EventDone}, types)

	ids, _, _ = follow(t, f, "gone", "0-1")
	require.Equal(t, []string{"0-2"}, ids)
	// A client past them (it saw entries that have since expired) has
	// nothing more to get, and the stream ends.
	ids, _, finished = follow(t, f, "gone", "9-9")
	require.True(t, finished)
	require.Empty(t, ids)
}

// TestFeedWaitsForARecentOutcome: a job that finished just now may still
// publish its outcome, so the feed keeps waiting (with heartbeats), and a
// job still running is followed until ctx ends.
func TestFeedWaitsForARecentOutcome(t *testing.T) {
	t.Parallel()
	store := newMemJobs(finishedJob("fresh", ragqueue.StateSucceeded, 0))
	f := jobs.NewFeed(memEvents{}, store, jobs.FeedOptions{Heartbeat: 5 * time.Millisecond, Settle: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	beats := 0
	finished, err := f.Follow(ctx, "acme", "fresh", "", func(ragqueue.EventEntry) error {
		return errors.New("nothing should be emitted")
	}, func() error {
		if beats++; beats == 3 {
			cancel()
		}
		return nil
	})
	require.False(t, finished)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 3, beats)
}

// TestFeedStopsWhenEmitFails returns the emit error, unfinished.
func TestFeedStopsWhenEmitFails(t *testing.T) {
	t.Parallel()
	events := memEvents{"acme/q1": {entry("1-0", ragqueue.EventToken), entry("1-1", ragqueue.EventDone)}}
	f := jobs.NewFeed(events, newMemJobs(), jobs.FeedOptions{})
	gone := errors.New("client gone")
	finished, err := f.Follow(context.Background(), "acme", "q1", "", func(ragqueue.EventEntry) error { return gone }, func() error { return nil })
	require.False(t, finished)
	require.ErrorIs(t, err, gone)
}
