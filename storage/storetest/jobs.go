package storetest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func jobTests() []test {
	return []test{
		{"CreateGetRoundTrip", testJobRoundTrip},
		{"CreateIdempotent", testJobCreateIdempotent},
		{"CreateInvalid", testJobCreateInvalid},
		{"TenantIsolation", testJobTenantIsolation},
		{"UpdateFields", testJobUpdate},
		{"UpdateCompletedAt", testJobCompletedAt},
		{"UpdateNotFound", testJobUpdateNotFound},
		{"Unfinished", testJobUnfinished},
	}
}

func newJob(tenant, id string) ragqueue.Job {
	return ragqueue.Job{ID: id, Tenant: tenant, Type: ragqueue.KindIngest, State: ragqueue.StateQueued}
}

func mustGetJob(t *testing.T, s Store, tenant, id string) ragqueue.Job {
	t.Helper()
	j, err := s.GetJob(context.Background(), tenant, id)
	require.NoError(t, err)
	return j
}

func state(s ragqueue.State) *ragqueue.State { return &s }
func str(s string) *string                   { return &s }

func testJobRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()

	bare := newJob("acme", "j1")
	require.NoError(t, s.CreateJob(ctx, bare))
	got := mustGetJob(t, s, "acme", "j1")
	require.Nil(t, got.Progress, "nil progress must read back as nil, not JSON null")
	require.Nil(t, got.Result)
	require.Nil(t, got.CompletedAt)
	requireRecent(t, got.CreatedAt)
	requireRecent(t, got.UpdatedAt)
	bare.CreatedAt, bare.UpdatedAt = got.CreatedAt, got.UpdatedAt
	require.Equal(t, bare, got)

	done := at(30)
	full := ragqueue.Job{
		ID: "j2", Tenant: "acme", Type: ragqueue.KindQuery, State: ragqueue.StateSucceeded,
		Progress:  json.RawMessage(`{"done": 3, "total": 3}`),
		Result:    json.RawMessage(`{"answer": "42", "citations": [1, 2]}`),
		Error:     "",
		CreatedAt: at(10), UpdatedAt: at(20), CompletedAt: &done,
		CallbackURL: "https://hooks.example/ragqueue?team=7",
	}
	require.NoError(t, s.CreateJob(ctx, full))
	got = mustGetJob(t, s, "acme", "j2")
	require.JSONEq(t, string(full.Progress), string(got.Progress))
	require.JSONEq(t, string(full.Result), string(got.Result))
	requireTime(t, full.CreatedAt, got.CreatedAt)
	requireTime(t, full.UpdatedAt, got.UpdatedAt)
	require.NotNil(t, got.CompletedAt)
	requireTime(t, done, *got.CompletedAt)
	require.Equal(t, full.Type, got.Type)
	require.Equal(t, full.State, got.State)
	require.Equal(t, full.CallbackURL, got.CallbackURL)

	// A JSON null is no value.
	j := newJob("acme", "j3")
	j.Progress = json.RawMessage(`null`)
	require.NoError(t, s.CreateJob(ctx, j))
	require.Nil(t, mustGetJob(t, s, "acme", "j3").Progress)
}

func testJobCreateIdempotent(t *testing.T, s Store) {
	ctx := context.Background()
	first := newJob("acme", "j1")
	first.CreatedAt = at(0)
	require.NoError(t, s.CreateJob(ctx, first))
	want := mustGetJob(t, s, "acme", "j1")

	again := newJob("acme", "j1")
	again.State, again.Type, again.Error = ragqueue.StateFailed, ragqueue.KindQuery, "overwritten?"
	again.Progress = json.RawMessage(`{"x": 1}`)
	require.NoError(t, s.CreateJob(ctx, again))
	require.Equal(t, want, mustGetJob(t, s, "acme", "j1"))

	// The same id from another tenant changes nothing and reveals nothing.
	require.NoError(t, s.CreateJob(ctx, newJob("globex", "j1")))
	require.Equal(t, want, mustGetJob(t, s, "acme", "j1"))
	_, err := s.GetJob(ctx, "globex", "j1")
	requireCode(t, ragqueue.ENOTFOUND, err)
}

func testJobCreateInvalid(t *testing.T, s Store) {
	ctx := context.Background()
	requireCode(t, ragqueue.EINVALID, s.CreateJob(ctx, newJob("acme", "")))
	requireCode(t, ragqueue.EINVALID, s.CreateJob(ctx, newJob("", "j1")))
	j := newJob("acme", "j1")
	j.Result = json.RawMessage(`{oops`)
	requireCode(t, ragqueue.EINVALID, s.CreateJob(ctx, j))
	_, err := s.GetJob(ctx, "acme", "j1")
	requireCode(t, ragqueue.ENOTFOUND, err)
}

func testJobTenantIsolation(t *testing.T, s Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateJob(ctx, newJob("acme", "j1")))
	want := mustGetJob(t, s, "acme", "j1")

	_, err := s.GetJob(ctx, "globex", "j1")
	requireCode(t, ragqueue.ENOTFOUND, err)
	err = s.UpdateJob(ctx, "globex", "j1", ragqueue.JobUpdate{State: state(ragqueue.StateCanceled), Error: str("x")})
	requireCode(t, ragqueue.ENOTFOUND, err)
	require.Equal(t, want, mustGetJob(t, s, "acme", "j1"))
}

func testJobUpdate(t *testing.T, s Store) {
	ctx := context.Background()
	j := newJob("acme", "j1")
	j.CreatedAt = at(0)
	require.NoError(t, s.CreateJob(ctx, j))
	before := mustGetJob(t, s, "acme", "j1")

	require.NoError(t, s.UpdateJob(ctx, "acme", "j1", ragqueue.JobUpdate{
		State:    state(ragqueue.StateActive),
		Progress: json.RawMessage(`{"stage": "parse"}`),
	}))
	got := mustGetJob(t, s, "acme", "j1")
	require.Equal(t, ragqueue.StateActive, got.State)
	require.JSONEq(t, `{"stage": "parse"}`, string(got.Progress))
	require.Nil(t, got.Result)
	require.Nil(t, got.CompletedAt)
	requireTime(t, before.CreatedAt, got.CreatedAt)
	require.True(t, got.UpdatedAt.After(before.UpdatedAt))

	// Nil fields are left alone.
	require.NoError(t, s.UpdateJob(ctx, "acme", "j1", ragqueue.JobUpdate{Error: str("retrying: timeout")}))
	got = mustGetJob(t, s, "acme", "j1")
	require.Equal(t, ragqueue.StateActive, got.State)
	require.JSONEq(t, `{"stage": "parse"}`, string(got.Progress))
	require.Equal(t, "retrying: timeout", got.Error)

	require.NoError(t, s.UpdateJob(ctx, "acme", "j1", ragqueue.JobUpdate{
		Result: json.RawMessage(`{"chunks": 12}`),
		Error:  str(""),
	}))
	got = mustGetJob(t, s, "acme", "j1")
	require.JSONEq(t, `{"chunks": 12}`, string(got.Result))
	require.Empty(t, got.Error)

	// JSON null clears; bad JSON is refused.
	require.NoError(t, s.UpdateJob(ctx, "acme", "j1", ragqueue.JobUpdate{Progress: json.RawMessage(`null`)}))
	require.Nil(t, mustGetJob(t, s, "acme", "j1").Progress)
	err := s.UpdateJob(ctx, "acme", "j1", ragqueue.JobUpdate{Progress: json.RawMessage(`{`)})
	requireCode(t, ragqueue.EINVALID, err)
}

func testJobCompletedAt(t *testing.T, s Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateJob(ctx, newJob("acme", "j1")))

	for _, st := range []ragqueue.State{ragqueue.StateActive, ragqueue.StateRetrying} {
		require.NoError(t, s.UpdateJob(ctx, "acme", "j1", ragqueue.JobUpdate{State: state(st)}))
		require.Nil(t, mustGetJob(t, s, "acme", "j1").CompletedAt, "state %s", st)
	}
	require.NoError(t, s.UpdateJob(ctx, "acme", "j1", ragqueue.JobUpdate{State: state(ragqueue.StateSucceeded)}))
	got := mustGetJob(t, s, "acme", "j1")
	require.Equal(t, ragqueue.StateSucceeded, got.State)
	require.NotNil(t, got.CompletedAt)
	requireRecent(t, *got.CompletedAt)

	// Terminal again keeps the first completion time.
	require.NoError(t, s.UpdateJob(ctx, "acme", "j1", ragqueue.JobUpdate{State: state(ragqueue.StateSucceeded)}))
	again := mustGetJob(t, s, "acme", "j1")
	requireTime(t, *got.CompletedAt, *again.CompletedAt)

	// Back to work (a manual retry) clears it.
	require.NoError(t, s.UpdateJob(ctx, "acme", "j1", ragqueue.JobUpdate{State: state(ragqueue.StateQueued)}))
	require.Nil(t, mustGetJob(t, s, "acme", "j1").CompletedAt)

	for _, st := range []ragqueue.State{ragqueue.StateFailed, ragqueue.StateCanceled} {
		require.NoError(t, s.CreateJob(ctx, newJob("acme", string(st))))
		require.NoError(t, s.UpdateJob(ctx, "acme", string(st), ragqueue.JobUpdate{State: state(st)}))
		require.NotNil(t, mustGetJob(t, s, "acme", string(st)).CompletedAt, "state %s", st)
	}

	// A job created terminal is completed.
	j := newJob("acme", "born-done")
	j.State = ragqueue.StateSucceeded
	require.NoError(t, s.CreateJob(ctx, j))
	require.NotNil(t, mustGetJob(t, s, "acme", "born-done").CompletedAt)
}

func testJobUpdateNotFound(t *testing.T, s Store) {
	err := s.UpdateJob(context.Background(), "acme", "nope", ragqueue.JobUpdate{State: state(ragqueue.StateActive)})
	requireCode(t, ragqueue.ENOTFOUND, err)
	require.Equal(t, "job nope not found", ragqueue.ErrorMessage(err))
	_, err = s.GetJob(context.Background(), "acme", "nope")
	requireCode(t, ragqueue.ENOTFOUND, err)
}

func testJobUnfinished(t *testing.T, s Store) {
	ctx := context.Background()
	states := []ragqueue.State{
		ragqueue.StateQueued, ragqueue.StateSucceeded, ragqueue.StateActive, ragqueue.StateFailed,
		ragqueue.StateRetrying, ragqueue.StateCanceled, ragqueue.StateQueued,
	}
	var want, wantQueries []string
	for i, st := range states {
		j := newJob([]string{"acme", "globex"}[i%2], "j"+string(rune('a'+i)))
		j.State = st
		j.CreatedAt = at(100 - 10*i) // later seeds are older
		if i%3 == 2 {
			j.Type = ragqueue.KindQuery
		}
		require.NoError(t, s.CreateJob(ctx, j))
		if !st.Terminal() {
			want = append([]string{j.ID}, want...)
			if j.Type == ragqueue.KindQuery {
				wantQueries = append([]string{j.ID}, wantQueries...)
			}
		}
	}
	jobIDs := func(list []ragqueue.Job) []string {
		out := make([]string, len(list))
		for i, j := range list {
			out[i] = j.ID
		}
		return out
	}
	list, err := s.UnfinishedJobs(ctx, "", 10)
	require.NoError(t, err)
	require.Equal(t, want, jobIDs(list))
	list, err = s.UnfinishedJobs(ctx, "", 3)
	require.NoError(t, err)
	require.Equal(t, want[:3], jobIDs(list))
	list, err = s.UnfinishedJobs(ctx, "", 0)
	require.NoError(t, err)
	require.Equal(t, want, jobIDs(list))

	// One kind: the others ahead of it in age do not take its places.
	require.NotEmpty(t, wantQueries)
	list, err = s.UnfinishedJobs(ctx, ragqueue.KindQuery, 1)
	require.NoError(t, err)
	require.Equal(t, wantQueries[:1], jobIDs(list))
	list, err = s.UnfinishedJobs(ctx, ragqueue.KindQuery, 10)
	require.NoError(t, err)
	require.Equal(t, wantQueries, jobIDs(list))
	list, err = s.UnfinishedJobs(ctx, "no-such-kind", 10)
	require.NoError(t, err)
	require.Empty(t, list)
}
