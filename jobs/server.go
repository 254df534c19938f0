package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/hibiken/asynq"
)

// ServerConfig configures a worker's Asynq server.
type ServerConfig struct {
	// Concurrency is the number of tasks processed at once; 0 means the
	// number of CPUs.
	Concurrency int
	// Logger receives Asynq's own logs and one line per finally failed task;
	// nil discards.
	Logger *slog.Logger
	// ShutdownTimeout is how long Shutdown waits for running tasks before
	// handing them back to the queue; 0 means Asynq's default (8 s).
	ShutdownTimeout time.Duration
	// PollInterval is how long an idle worker waits before looking at empty
	// queues again, which bounds the pickup latency of a new task; 0 means
	// 200 ms (Asynq's default is 1 s, too slow for someone waiting on a
	// query).
	PollInterval time.Duration
}

// Retry timing: the first retry comes after 1-2 s and the delay doubles per
// attempt, with jitter, up to retryMaxDelay. Delayed tasks are moved back to
// their queue every delayedCheckInterval, so that short delays are honoured.
const (
	retryBaseDelay       = time.Second
	retryMaxDelay        = 5 * time.Minute
	delayedCheckInterval = time.Second
	defaultPollInterval  = 200 * time.Millisecond
)

// NewServer returns an Asynq server for ragqueue's workers: weighted queues
// (see Queues), short exponential retry delays, errors and Asynq's own
// messages logged through cfg.Logger. Run it with NewMux's handler.
func NewServer(r asynq.RedisConnOpt, cfg ServerConfig) *asynq.Server {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	poll := cfg.PollInterval
	if poll <= 0 {
		poll = defaultPollInterval
	}
	return asynq.NewServer(r, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   Queues(),
		RetryDelayFunc:           RetryDelay,
		IsFailure:                isFailure,
		ErrorHandler:             errorLogger(logger),
		Logger:                   NewAsynqLogger(logger),
		LogLevel:                 asynq.InfoLevel,
		ShutdownTimeout:          cfg.ShutdownTimeout,
		TaskCheckInterval:        poll,
		DelayedTaskCheckInterval: delayedCheckInterval,
		// Cross-document embedding batches (embed_batch.go).
		GroupAggregator:  aggregateEmbeds(logger),
		GroupGracePeriod: DefaultEmbedGroupGrace,
		GroupMaxDelay:    DefaultEmbedGroupMaxDelay,
		GroupMaxSize:     DefaultEmbedGroupMaxSize,
	})
}

// RetryDelay is the server's asynq.RetryDelayFunc: after the n-th retry
// (n = 0 for the first failure) it waits between 2ⁿ and 2ⁿ⁺¹ seconds, capped
// at five minutes, so that a brief outage is recovered from in seconds and a
// long one is not hammered.
func RetryDelay(n int, _ error, _ *asynq.Task) time.Duration {
	d := retryMaxDelay
	if n < 16 {
		d = min(retryBaseDelay<<n, retryMaxDelay)
	}
	return d + rand.N(d) // full jitter on top of the base: [d, 2d)
}

// errorLogger logs, at error level, tasks that Asynq will not run again
// (retries exhausted or skipped), including failures that bypass the
// middleware (timeouts, lost leases). The middleware already logs every failed
// attempt, so attempts that will be retried are only logged at debug level.
func errorLogger(logger *slog.Logger) asynq.ErrorHandler {
	return asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
		id, _ := asynq.GetTaskID(ctx)
		n, _ := asynq.GetRetryCount(ctx)
		maxRetry, _ := asynq.GetMaxRetry(ctx)
		level, msg := slog.LevelDebug, "task will be retried"
		if !WillRetry(ctx, err) {
			level, msg = slog.LevelError, "task archived: no more retries"
		}
		logger.Log(ctx, level, msg, "task_id", id, "task_type", t.Type(), "retry", n, "max_retry", maxRetry, "error", err)
	})
}

// asynqLogger adapts slog to asynq.Logger.
type asynqLogger struct{ l *slog.Logger }

// NewAsynqLogger returns an asynq.Logger writing to l, tagged component=asynq.
// Fatal logs at error level and exits, as asynq.Logger requires.
func NewAsynqLogger(l *slog.Logger) asynq.Logger {
	return asynqLogger{l: l.With("component", "asynq")}
}

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a asynqLogger) Fatal(args ...any) {
	a.l.Error(fmt.Sprint(args...))
	os.Exit(1)
}

// isFailure is the server's asynq IsFailure: a task that failed because the
// metadata database was unreachable is retried without counting the
// attempt, so that an outage longer than the retry budget does not use up
// every document's retries.
func isFailure(err error) bool {
	return err != nil && !errors.Is(err, ragqueue.ErrStoreUnavailable)
}
