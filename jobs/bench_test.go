package jobs_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue/jobs"
)

// benchArgs is a payload shaped like the real ones: IDs only.
type benchArgs struct {
	Tenant     string `json:"tenant"`
	DocumentID string `json:"document_id"`
	JobID      string `json:"job_id"`
	Version    int    `json:"version"`
}

func (benchArgs) Kind() string { return "bench:noop" }

func (benchArgs) TaskOptions() []asynq.Option { return []asynq.Option{asynq.Queue(jobs.QueueIngest)} }

const benchConcurrency = 8

// BenchmarkEnqueueProcess enqueues b.N tasks, then processes them with a
// server of benchConcurrency workers, once with plain Asynq and once through
// the jobs layer (typed args, Register's decoding, the logging middleware,
// NewServer's configuration). The handler work is the same trivial counter.
// Compare the tasks/s metrics; the jobs layer should stay within 10%.
func BenchmarkEnqueueProcess(b *testing.B) {
	payload, _ := json.Marshal(benchArgs{Tenant: "acme", DocumentID: "0b6f8f8e-2f0e-4c1a-9f4a-7d7e6c1d2b3a", JobID: "5a0c1d9e-3b7f-4e2d-8c6b-1f2e3d4c5b6a", Version: 1})

	b.Run("raw-asynq", func(b *testing.B) {
		runEnqueueProcess(b,
			func(c *asynq.Client) error {
				_, err := c.EnqueueContext(context.Background(), asynq.NewTask("bench:noop", payload), asynq.Queue(jobs.QueueIngest))
				return err
			},
			func(r asynq.RedisClientOpt, done *atomic.Int64) (*asynq.Server, asynq.Handler) {
				mux := asynq.NewServeMux()
				mux.HandleFunc("bench:noop", func(context.Context, *asynq.Task) error {
					done.Add(1)
					return nil
				})
				srv := asynq.NewServer(r, asynq.Config{
					Concurrency:       benchConcurrency,
					Queues:            jobs.Queues(),
					TaskCheckInterval: 20 * time.Millisecond,
					Logger:            jobs.NewAsynqLogger(slog.New(slog.DiscardHandler)),
				})
				return srv, mux
			})
	})

	b.Run("jobs-layer", func(b *testing.B) {
		args := benchArgs{Tenant: "acme", DocumentID: "0b6f8f8e-2f0e-4c1a-9f4a-7d7e6c1d2b3a", JobID: "5a0c1d9e-3b7f-4e2d-8c6b-1f2e3d4c5b6a", Version: 1}
		runEnqueueProcess(b,
			func(c *asynq.Client) error {
				task, err := jobs.NewTask(args)
				if err != nil {
					return err
				}
				_, err = c.EnqueueContext(context.Background(), task)
				return err
			},
			func(r asynq.RedisClientOpt, done *atomic.Int64) (*asynq.Server, asynq.Handler) {
				mux := asynq.NewServeMux()
				// The same middleware NewMux installs, logging to a discarding
				// handler as a production logger above info level would.
				mux.Use(jobs.LogTasksForTest(slog.New(slog.DiscardHandler)))
				jobs.Register(mux, func(_ context.Context, _ benchArgs) error {
					done.Add(1)
					return nil
				})
				srv := jobs.NewServer(r, jobs.ServerConfig{
					Concurrency:  benchConcurrency,
					Logger:       slog.New(slog.DiscardHandler),
					PollInterval: 20 * time.Millisecond,
				})
				return srv, mux
			})
	})
}

func runEnqueueProcess(b *testing.B, enqueue func(*asynq.Client) error, server func(asynq.RedisClientOpt, *atomic.Int64) (*asynq.Server, asynq.Handler)) {
	r := redisServer.NewDB(b)
	client := asynq.NewClient(r)
	b.Cleanup(func() { _ = client.Close() })
	var done atomic.Int64
	srv, h := server(r, &done)

	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if err := enqueue(client); err != nil {
			b.Fatal(err)
		}
	}
	enqueued := time.Since(start)
	startProcess := time.Now()
	if err := srv.Start(h); err != nil {
		b.Fatal(err)
	}
	for done.Load() < int64(b.N) {
		time.Sleep(time.Millisecond)
	}
	processed := time.Since(startProcess)
	b.StopTimer()
	srv.Shutdown()

	b.ReportMetric(float64(b.N)/enqueued.Seconds(), "enqueue-tasks/s")
	b.ReportMetric(float64(b.N)/processed.Seconds(), "process-tasks/s")
	b.ReportMetric(float64(b.N)/(enqueued+processed).Seconds(), "tasks/s")
}
