package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// ReconcileLimit bounds what one reconciliation pass lists; unfinished work
// beyond it is picked up by the next pass.
const ReconcileLimit = 10000

// ReconcilePass is one feature's part of a reconciliation: it enqueues again
// the work the database says is unfinished and the queue may have lost, and
// returns how many tasks it added. grace > 0 spares work that changed less
// than grace ago (the periodic pass: a stage may have just handed over to
// the next); 0 is the pass at start, which spares nothing.
type ReconcilePass func(ctx context.Context, grace time.Duration) (requeued int, err error)

// Reconcile makes the queue agree with the database, which is the truth: it
// runs passes in order (documents, then crawls) and returns how many tasks
// they added, stopping at the first that fails. Work whose task is still in
// Redis is left alone (task IDs make the enqueue a no-op). Run it at worker
// or API start.
func Reconcile(ctx context.Context, passes ...ReconcilePass) (requeued int, err error) {
	return reconcile(ctx, passes, 0)
}

// reconcile runs passes with grace.
func reconcile(ctx context.Context, passes []ReconcilePass, grace time.Duration) (requeued int, err error) {
	for _, pass := range passes {
		n, err := pass(ctx, grace)
		requeued += n
		if err != nil {
			return requeued, fmt.Errorf("jobs: reconcile: %w", err)
		}
	}
	return requeued, nil
}

// ReconcileEvery is how often the workers reconcile the queue with the
// database, besides at start.
const ReconcileEvery = time.Minute

// ReconcileGrace is how long a document may stay in processing before the
// periodic reconciler enqueues it again: the longest stage (embedding)
// plus a margin. A document whose task Redis still holds is never
// duplicated (task IDs); this only spares the work of a stage that
// finished while the next one runs.
const ReconcileGrace = embedTimeout + 5*time.Minute

// RegisterReconcile routes the periodic reconciliation task on mux: passes
// run in order with ReconcileGrace, as Reconcile runs them at start.
func RegisterReconcile(mux *asynq.ServeMux, logger *slog.Logger, passes ...ReconcilePass) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	Register(mux, Guard(logger, func(ctx context.Context, _ ReconcileArgs) error {
		n, err := reconcile(ctx, passes, ReconcileGrace)
		if n > 0 {
			logger.InfoContext(ctx, "reconcile: re-enqueued lost work", "count", n)
		}
		return err
	}, func(_ context.Context, _ ReconcileArgs, err error) error { return err }))
}

// StartReconciler runs an Asynq scheduler that enqueues a reconciliation
// pass every ReconcileEvery. Every worker process runs one; the task's
// uniqueness lock makes their ticks one pass. Stop it with Shutdown.
func StartReconciler(r asynq.RedisConnOpt, logger *slog.Logger) (*asynq.Scheduler, error) {
	task, err := NewTask(ReconcileArgs{})
	if err != nil {
		return nil, err
	}
	s := asynq.NewScheduler(r, &asynq.SchedulerOpts{
		Logger:   NewAsynqLogger(logger),
		LogLevel: asynq.WarnLevel,
		EnqueueErrorHandler: func(_ *asynq.Task, _ []asynq.Option, err error) {
			if !errors.Is(err, asynq.ErrDuplicateTask) {
				logger.Warn("reconcile: could not enqueue the periodic pass", "error", err)
			}
		},
	})
	if _, err := s.Register(fmt.Sprintf("@every %s", ReconcileEvery), task); err != nil {
		return nil, fmt.Errorf("jobs: register reconciler: %w", err)
	}
	if err := s.Start(); err != nil {
		return nil, fmt.Errorf("jobs: start reconciler: %w", err)
	}
	return s, nil
}
