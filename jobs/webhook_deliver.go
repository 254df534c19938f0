package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/web"
)

// WebhookConfig is what webhook delivery works with.
type WebhookConfig struct {
	// Jobs holds the job records that are delivered.
	Jobs ragqueue.JobStore
	// Client is the one SSRF-guarded client deliveries go through; Secret
	// (RAGQ_WEBHOOK_SECRET) signs them. Without either, deliveries fail.
	Client *http.Client
	Secret []byte
	// Logger receives deliveries and give-ups; nil discards.
	Logger *slog.Logger
}

// RegisterWebhooks routes the webhook delivery task (webhook:deliver) on mux.
func RegisterWebhooks(mux *asynq.ServeMux, cfg WebhookConfig) {
	if cfg.Jobs == nil {
		panic("jobs: RegisterWebhooks: Jobs is nil")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w := &webhooks{cfg}
	Register(mux, Guard(cfg.Logger, w.deliver, w.failed))
}

// webhooks delivers webhooks.
type webhooks struct{ cfg WebhookConfig }

// deliver POSTs the finished job to its callback URL. A 2xx answer
// is delivery; 408, 429, 5xx and network errors are retried; any other
// answer, a refused address or a job without a URL end the attempts.
func (w *webhooks) deliver(ctx context.Context, a WebhookArgs) error {
	job, err := w.cfg.Jobs.GetJob(ctx, a.Tenant, a.JobID)
	if ragqueue.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("jobs: webhook: get job %s: %w", a.JobID, err)
	}
	if job.CallbackURL == "" {
		return nil
	}
	if len(w.cfg.Secret) == 0 || w.cfg.Client == nil {
		return Permanent(errors.New("jobs: webhook: this worker has no RAGQ_WEBHOOK_SECRET or no web client"))
	}
	body, err := json.Marshal(WebhookPayload{Event: WebhookEvent, Job: job})
	if err != nil {
		return Permanent(fmt.Errorf("jobs: webhook: %w", err))
	}
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, job.CallbackURL, bytes.NewReader(body))
	if err != nil {
		return Permanent(fmt.Errorf("jobs: webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ragqueue-webhook/1")
	req.Header.Set("Ragqueue-Job-Id", job.ID)
	req.Header.Set(WebhookSignatureHeader, Sign(w.cfg.Secret, time.Now(), body))
	resp, err := w.cfg.Client.Do(req)
	if err != nil {
		if errors.Is(err, web.ErrBlocked) {
			return Permanent(fmt.Errorf("jobs: webhook to %s: %w", job.CallbackURL, err))
		}
		return fmt.Errorf("jobs: webhook to %s: %w", job.CallbackURL, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		w.cfg.Logger.InfoContext(ctx, "webhook delivered", "tenant", a.Tenant, "job_id", a.JobID, "status", resp.StatusCode)
		return nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		// Retried with backoff.
	default:
		// The receiver refuses this delivery (410 Gone, a 4xx): asking
		// again cannot change its mind.
		return Permanent(fmt.Errorf("jobs: webhook to %s: the receiver answered %d", job.CallbackURL, resp.StatusCode))
	}
	return fmt.Errorf("jobs: webhook to %s: the receiver answered %d", job.CallbackURL, resp.StatusCode)
}

// failed logs a delivery that will not be retried.
func (w *webhooks) failed(ctx context.Context, a WebhookArgs, err error) error {
	if !WillRetry(ctx, err) {
		w.cfg.Logger.WarnContext(ctx, "webhook not delivered; giving up", "tenant", a.Tenant, "job_id", a.JobID, "error", err)
	}
	return err
}
