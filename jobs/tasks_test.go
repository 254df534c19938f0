package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// echoArgs is a test-only kind, to exercise Register and NewTask on their own.
type echoArgs struct {
	Tenant string   `json:"tenant"`
	Words  []string `json:"words"`
	N      int      `json:"n"`
}

func (echoArgs) Kind() string { return "test:echo" }

type tasksBundle struct {
	mux *asynq.ServeMux
	got chan echoArgs
}

func setupTasks(t *testing.T) *tasksBundle {
	t.Helper()
	b := &tasksBundle{mux: asynq.NewServeMux(), got: make(chan echoArgs, 1)}
	jobs.Register(b.mux, func(_ context.Context, a echoArgs) error {
		b.got <- a
		return nil
	})
	return b
}

func TestRegisterDecodes(t *testing.T) {
	t.Parallel()
	b := setupTasks(t)
	want := echoArgs{Tenant: "acme", Words: []string{"a", "b"}, N: 3}
	task, err := jobs.NewTask(want)
	require.NoError(t, err)
	require.Equal(t, "test:echo", task.Type())
	require.JSONEq(t, `{"tenant":"acme","words":["a","b"],"n":3}`, string(task.Payload()))
	require.NoError(t, b.mux.ProcessTask(t.Context(), task))
	require.Equal(t, want, <-b.got)
}

func TestRegisterBadPayloadSkipsRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, typ string
		payload   []byte
	}{
		{"NotJSON", "test:echo", []byte(`{"tenant":`)},
		{"WrongTypes", "test:echo", []byte(`{"n":"three"}`)},
		{"Empty", "test:echo", nil},
		// ServeMux routes by prefix; Register insists on the exact kind.
		{"PrefixOfAnotherKind", "test:echo2", []byte(`{}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupTasks(t)
			err := b.mux.ProcessTask(t.Context(), asynq.NewTask(tt.typ, tt.payload))
			require.ErrorIs(t, err, asynq.SkipRetry)
			require.Empty(t, b.got)
		})
	}
}

func TestArgsKinds(t *testing.T) {
	t.Parallel()
	require.Equal(t, "ingest:parse", jobs.ParseArgs{}.Kind())
	require.Equal(t, "ingest:embed", jobs.EmbedArgs{}.Kind())
	require.Equal(t, "query:answer", jobs.QueryArgs{}.Kind())
}

func TestQueues(t *testing.T) {
	t.Parallel()
	q := jobs.Queues()
	require.Equal(t, map[string]int{"queries": 6, "ingest": 3, "maintenance": 1}, q)
	q["queries"] = 0
	require.Equal(t, 6, jobs.Queues()["queries"], "Queues must hand out a fresh map")
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	prevLow := time.Duration(0)
	for n := range 12 {
		low := min(time.Second<<n, 5*time.Minute)
		for range 50 {
			d := jobs.RetryDelay(n, errors.New("x"), nil)
			require.GreaterOrEqual(t, d, low, "retry %d", n)
			require.Less(t, d, 2*low, "retry %d", n)
		}
		require.GreaterOrEqual(t, low, prevLow)
		prevLow = low
	}
	require.Less(t, jobs.RetryDelay(1000, nil, nil), 10*time.Minute)
}

func TestAsynqLogger(t *testing.T) {
	t.Parallel()
	var lines []string
	l := jobs.NewAsynqLogger(slog.New(funcHandler(func(r slog.Record) { lines = append(lines, r.Level.String()+" "+r.Message) })))
	l.Info("started ", 3, " workers")
	l.Warn("slow")
	require.Equal(t, []string{"INFO started 3 workers", "WARN slow"}, lines)
}

// funcHandler is a slog.Handler calling a function per record.
type funcHandler func(slog.Record)

func (funcHandler) Enabled(context.Context, slog.Level) bool        { return true }
func (f funcHandler) Handle(_ context.Context, r slog.Record) error { f(r); return nil }
func (f funcHandler) WithAttrs([]slog.Attr) slog.Handler            { return f }
func (f funcHandler) WithGroup(string) slog.Handler                 { return f }

func TestIsFailure(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain", errors.New("boom"), true},
		{"provider unavailable", ragqueue.Errorf(ragqueue.EUNAVAILABLE, "the provider is down"), true},
		{"database unavailable, wrapped", fmt.Errorf("jobs: get document d: %w", fmt.Errorf("%w: dial tcp: refused", ragqueue.ErrStoreUnavailable)), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, jobs.IsFailureForTest(tt.err))
		})
	}
}
