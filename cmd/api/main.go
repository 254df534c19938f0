// Command api is ragqueue's HTTP API. Without RAGQ_REDIS_URL it runs in
// embedded mode: an in-process Redis, the workers, and SQLite, all in this
// one process.
package main

import (
	"context"
	"io"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
)

func main() { app.Main("api", run) }

// run starts the API and blocks until ctx is cancelled (SIGINT/SIGTERM),
// then shuts down gracefully.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return err
	}
	logger := app.NewLogger(stderr, cfg)
	inst, err := start(ctx, cfg, logger, stderr)
	if err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case err := <-inst.served:
		inst.served <- err // shutdown reads it again
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
	defer cancel()
	return inst.shutdown(sctx)
}
