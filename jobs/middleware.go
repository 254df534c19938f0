package jobs

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/hibiken/asynq"
)

// NewServeMux returns the ServeMux the feature packages register their task
// handlers on, behind the logging and panic-recovery middleware (logTasks).
// A nil logger discards.
func NewServeMux(logger *slog.Logger) *asynq.ServeMux {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mux := asynq.NewServeMux()
	mux.Use(logTasks(logger))
	return mux
}

// taskInfo collects what a task is about (tenant, doc_id, job_id) once
// Register has decoded its payload, so that the logging middleware can name
// it without decoding the payload a second time.
type taskInfo struct {
	attrs []slog.Attr
}

type taskInfoKey struct{}

func taskInfoFrom(ctx context.Context) *taskInfo {
	info, _ := ctx.Value(taskInfoKey{}).(*taskInfo)
	return info
}

// logTasks logs one line per task attempt, with its outcome, duration and the
// tenant/doc_id/job_id it was about, and turns a panic into an error so that
// the attempt is retried like any other failure.
func logTasks(logger *slog.Logger) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, t *asynq.Task) (err error) {
			start := time.Now()
			info := &taskInfo{}
			ctx = context.WithValue(ctx, taskInfoKey{}, info)
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("jobs: task %s panicked: %v", t.Type(), r)
					logger.LogAttrs(ctx, slog.LevelError, "task panicked", append(taskAttrs(ctx, t, info),
						slog.Any("panic", r), slog.String("stack", string(debug.Stack())))...)
				}
				level, msg := slog.LevelInfo, "task done"
				if err != nil {
					level, msg = slog.LevelWarn, "task failed"
				}
				if !logger.Enabled(ctx, level) {
					return // spare the attributes' allocations
				}
				attrs := append(taskAttrs(ctx, t, info), slog.Duration("duration", time.Since(start)))
				if err != nil {
					attrs = append(attrs, slog.String("error", err.Error()))
				}
				logger.LogAttrs(ctx, level, msg, attrs...)
			}()
			return next.ProcessTask(ctx, t)
		})
	}
}

// taskAttrs names a task in logs.
func taskAttrs(ctx context.Context, t *asynq.Task, info *taskInfo) []slog.Attr {
	id, _ := asynq.GetTaskID(ctx)
	retry, _ := asynq.GetRetryCount(ctx)
	attrs := make([]slog.Attr, 0, 4+len(info.attrs))
	attrs = append(attrs, slog.String("task_id", id), slog.String("task_type", t.Type()), slog.Int("retry", retry))
	return append(attrs, info.attrs...)
}
