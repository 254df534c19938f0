package jobs

import (
	"errors"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// TaskReconcile is the Asynq task type of the periodic reconciliation.
const TaskReconcile = "maintenance:reconcile"

// ReconcileArgs asks a worker for one reconciliation pass.
type ReconcileArgs struct{}

// Kind implements Args.
func (ReconcileArgs) Kind() string { return TaskReconcile }

// TaskOptions implements ArgsWithOptions: the maintenance queue, no retry
// (the next pass comes soon), one pass at a time across all workers.
func (ReconcileArgs) TaskOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueMaintenance), asynq.MaxRetry(0), asynq.Timeout(5 * time.Minute),
		asynq.Unique(ReconcileEvery - time.Second)}
}

func (ReconcileArgs) validate() error { return nil }

func (ReconcileArgs) logAttrs() []slog.Attr { return nil }

// TaskWebhook is the Asynq task type of one webhook delivery.
const TaskWebhook = "webhook:deliver"

// Webhook task limits.
const (
	// webhookTimeout bounds one delivery attempt.
	webhookTimeout = 15 * time.Second
	// webhookMaxRetry: with RetryDelay's doubling (capped at 5 minutes),
	// about half an hour of attempts.
	webhookMaxRetry = 10
)

// WebhookArgs asks a worker to notify a finished job's callback URL.
type WebhookArgs struct {
	Tenant string `json:"tenant"`
	JobID  string `json:"job_id"`
}

// Kind implements Args.
func (WebhookArgs) Kind() string { return TaskWebhook }

// TaskOptions implements ArgsWithOptions: the maintenance queue, retried
// with backoff for about half an hour.
func (WebhookArgs) TaskOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueMaintenance), asynq.MaxRetry(webhookMaxRetry), asynq.Timeout(webhookTimeout + 5*time.Second)}
}

// TaskID implements ArgsWithID: the job's, so that a job ended twice (a
// retried step) is notified once.
func (a WebhookArgs) TaskID() string { return "webhook-" + a.JobID }

func (a WebhookArgs) validate() error {
	if a.Tenant == "" || a.JobID == "" {
		return errors.New("tenant and job_id are required")
	}
	return nil
}

func (a WebhookArgs) logAttrs() []slog.Attr {
	return []slog.Attr{slog.String("tenant", a.Tenant), slog.String("job_id", a.JobID)}
}
