// Command worker runs ragqueue's jobs (parse, chunk, embed, index, answer)
// from Redis. Run as many as you like beside cmd/api; it needs RAGQ_REDIS_URL
// (in embedded mode the api process runs the workers itself).
package main

import (
	"context"
	"errors"
	"io"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
)

func main() { app.Main("worker", run) }

// run starts the workers and blocks until ctx is cancelled, then lets
// running jobs finish (or hands them back to Redis) within the shutdown
// timeout.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := app.LoadConfig(getenv)
	if err != nil {
		return err
	}
	if cfg.Embedded() {
		return errors.New("RAGQ_REDIS_URL is not set: a separate worker needs a shared Redis (in embedded mode cmd/api runs the workers itself)")
	}
	logger := app.NewLogger(stderr, cfg)
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer func() { _ = a.Close() }()
	embedder, generator := a.Models()
	logger.Info("ragqueue worker starting", "mode", a.Mode(), "data_dir", cfg.DataDir,
		"embedder", embedder, "generator", generator)
	stopWorkers, err := a.StartWorkers(ctx)
	if err != nil {
		return err
	}
	if cfg.MetricsAddr != "" {
		// Workers serve no HTTP otherwise: this is where Prometheus reads
		// their pipeline figures.
		ms, err := app.StartMetricsServer(cfg.MetricsAddr, a.Services().Registry, logger)
		if err != nil {
			stopWorkers()
			return err
		}
		defer func() {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.ShutdownTimeout)
			defer cancel()
			_ = ms.Shutdown(sctx)
		}()
	}
	<-ctx.Done()
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	stopWorkers()
	return nil
}
