package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
)

// settleTimeout bounds the state writes made after a failure, which run
// even when the task's own context has ended.
const settleTimeout = 10 * time.Second

// Guard runs fn, turns a panic into an error (logged with its stack on
// logger), and hands any error to onFail, which records it on the job (and
// document) and returns what Asynq should see.
func Guard[T Args](logger *slog.Logger, fn func(context.Context, T) error, onFail func(context.Context, T, error) error) func(context.Context, T) error {
	return func(ctx context.Context, args T) (err error) {
		defer func() {
			if r := recover(); r != nil {
				// The client sees that it panicked; the panic value and stack
				// are for the worker log only.
				err = fmt.Errorf("jobs: %s panicked: %v: %w", args.Kind(), r,
					ragqueue.Errorf(ragqueue.EINTERNAL, "the %s task panicked; the worker log has the details", args.Kind()))
				logger.ErrorContext(ctx, "handler panicked", "task_type", args.Kind(), "panic", r, "stack", string(debug.Stack()))
			}
			if err != nil {
				err = onFail(ctx, args, err)
			}
		}()
		return fn(ctx, args)
	}
}

// WillRetry reports whether Asynq will run the task again after err.
// Outside an Asynq server (no retry data in ctx) nothing retries.
func WillRetry(ctx context.Context, err error) bool {
	if errors.Is(err, asynq.SkipRetry) {
		return false
	}
	n, ok := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok && ok2 && n < maxRetry
}

// Permanent marks err as one that retrying cannot fix.
func Permanent(err error) error {
	return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
}

// IsPermanent reports whether err says retrying cannot help (Permanent, or
// any error wrapping asynq.SkipRetry).
func IsPermanent(err error) bool { return errors.Is(err, asynq.SkipRetry) }

// FailureMessage is what a job or document records about err for its
// clients: the message of a ragqueue error, "internal error" otherwise. The
// raw error, which may name internal hosts, paths or queries, is for the
// worker log (the task middleware logs every failed task with its job_id).
func FailureMessage(err error) string { return ragqueue.ErrorMessage(err) }

// SettleContext is for state writes after a failure: it keeps ctx's values
// (the Asynq retry data) but not its cancellation, so that a timed-out task
// still records why it stopped.
func SettleContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
}
