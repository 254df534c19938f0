package jobstest

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// testWriter sends log lines to t.Log, so that they show with failures
// only; lines written after the test ended are dropped.
type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

// Logger is a logger of warnings and errors whose lines show with the
// test's failures (t.Log).
func Logger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(newTestWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func newTestWriter(t testing.TB) *testWriter {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.done = true
	})
	return w
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
