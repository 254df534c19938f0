package jobs_test

import (
	"encoding/json"
	"testing"

	"github.com/ragqueue/ragqueue"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
)

func TestUpdateEvents(t *testing.T) {
	t.Parallel()
	st := func(s ragqueue.State) *ragqueue.State { return &s }
	msg := "boom"
	for _, tc := range []struct {
		name string
		u    ragqueue.JobUpdate
		want []string // type:data
	}{
		{"nothing", ragqueue.JobUpdate{State: st(ragqueue.StateActive)}, nil},
		{"progress", ragqueue.JobUpdate{Progress: json.RawMessage(`{"stage":"parse"}`)}, []string{`progress:{"stage":"parse"}`}},
		{"succeeded", ragqueue.JobUpdate{State: st(ragqueue.StateSucceeded), Result: json.RawMessage(`{"chunks":3}`)},
			[]string{`result:{"chunks":3}`, `done:{"state":"succeeded"}`}},
		{"retrying", ragqueue.JobUpdate{State: st(ragqueue.StateRetrying), Error: &msg},
			[]string{`error:{"error":"boom","state":"retrying"}`}},
		{"failed", ragqueue.JobUpdate{State: st(ragqueue.StateFailed), Error: &msg},
			[]string{`error:{"error":"boom","state":"failed"}`, `done:{"state":"failed"}`}},
		{"canceled", ragqueue.JobUpdate{State: st(ragqueue.StateCanceled), Error: &msg},
			[]string{`error:{"error":"boom","state":"canceled"}`, `done:{"state":"canceled"}`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, ev := range jobs.UpdateEvents(tc.u) {
				got = append(got, ev.Type+":"+string(ev.Data))
			}
			require.Equal(t, tc.want, got)
		})
	}
}
