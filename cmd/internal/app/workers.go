package app

import (
	"context"
	"fmt"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/keys"
	"github.com/ragqueue/ragqueue/jobs/queries"
)

// StartWorkers starts an Asynq server that runs every job handler, first
// putting back what the database says is unfinished (the queue carries work,
// not truth). The returned stop function waits for running jobs up to the
// shutdown timeout and hands the rest back to Redis.
func (a *App) StartWorkers(ctx context.Context) (stop func(), err error) {
	passes := []jobs.ReconcilePass{a.services.Documents.ReconcilePass, a.services.Crawler.ReconcilePass}
	if err := a.catchUp(ctx, passes); err != nil {
		return nil, err
	}
	srv := jobs.NewServer(a.redisOpt, jobs.ServerConfig{
		Concurrency:     a.cfg.WorkerConcurrency,
		Logger:          a.logger,
		ShutdownTimeout: a.cfg.ShutdownTimeout,
		PollInterval:    a.cfg.WorkerPoll,
	})
	if err := srv.Start(a.workerMux(passes)); err != nil {
		return nil, fmt.Errorf("app: start workers: %w", err)
	}
	// The reconciliation at start above, then every jobs.ReconcileEvery:
	// what Redis lost while running (a restart without persistence, an
	// eviction) is found again.
	sched, err := jobs.StartReconciler(a.redisOpt, a.logger)
	if err != nil {
		srv.Shutdown()
		return nil, fmt.Errorf("app: %w", err)
	}
	a.logger.Info("workers started", "concurrency", a.cfg.WorkerConcurrency, "queues", jobs.Queues())
	return func() { sched.Shutdown(); srv.Shutdown() }, nil
}

// catchUp puts back what the database says is unfinished before the
// workers start: queries interrupted by an embedded restart fail, the
// reconcile passes re-enqueue the rest, and a re-index into RAGQ_EMBEDDER's
// space starts when another one is live.
func (a *App) catchUp(ctx context.Context, passes []jobs.ReconcilePass) error {
	if a.cfg.Embedded() {
		// The in-process Redis starts empty: queries that were waiting when the
		// process stopped cannot be answered any more, documents can.
		if n, err := queries.FailInterrupted(ctx, a.store); err != nil {
			return fmt.Errorf("app: %w", err)
		} else if n > 0 {
			a.logger.Info("failed queries interrupted by the restart", "count", n)
		}
	}
	if n, err := jobs.Reconcile(ctx, passes...); err != nil {
		return fmt.Errorf("app: reconcile: %w", err)
	} else if n > 0 {
		a.logger.Info("re-enqueued unfinished documents", "count", n)
	}
	if a.reindexTo == "" {
		return nil
	}
	if err := a.services.Reindexer.Converge(ctx, keys.DefaultTenant, a.reindexTo); err != nil {
		return fmt.Errorf("app: %w", err)
	}
	return nil
}

// workerMux is the worker's mux: every task handler, the webhook delivery
// and the periodic reconciliation running passes.
func (a *App) workerMux(passes []jobs.ReconcilePass) *asynq.ServeMux {
	mux := jobs.NewServeMux(a.logger)
	a.services.Documents.Register(mux)
	a.services.Queries.Register(mux)
	a.services.Crawler.Register(mux)
	a.services.Reindexer.Register(mux)
	jobs.RegisterWebhooks(mux, jobs.WebhookConfig{Jobs: a.store, Client: a.webClient, Secret: a.cfg.WebhookSecret, Logger: a.logger})
	jobs.RegisterReconcile(mux, a.logger, passes...)
	return mux
}
