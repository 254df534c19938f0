package jobs

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"
	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/web"
)

// TaskWebhook delivers a finished job to its callback_url.
const TaskWebhook = "webhook:deliver"

// Webhook delivery limits.
const (
	webhookMaxRetry  = 10 // about an hour of backoff in all
	webhookTimeout   = 15 * time.Second
	webhookRetention = 24 * time.Hour // the task ID stays taken: one delivery per job
	// WebhookSignatureHeader carries "t=<unix seconds>,v1=<hex HMAC-SHA256
	// of "<t>.<body>" under the webhook secret>".
	WebhookSignatureHeader = "Ragqueue-Signature"
	// WebhookEvent is the event field of every webhook body.
	WebhookEvent = "job.finished"
)

// CallbackStore tells where a job's end is to be posted.
type CallbackStore interface {
	// Callback returns the job's callback URL, "" when it has none.
	Callback(ctx context.Context, tenant, jobID string) (string, error)
}

// WebhookArgs asks a worker to POST a finished job to url.
type WebhookArgs struct {
	Tenant string `json:"tenant"`
	JobID  string `json:"job_id"`
	URL    string `json:"url"`
}

// Kind implements Args.
func (WebhookArgs) Kind() string { return TaskWebhook }

// TaskOptions implements ArgsWithOptions: the maintenance queue, 10
// retries with backoff, 30 s per attempt, kept a day after delivery.
func (WebhookArgs) TaskOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueMaintenance), asynq.MaxRetry(webhookMaxRetry),
		asynq.Timeout(2 * webhookTimeout), asynq.Retention(webhookRetention)}
}

func (a WebhookArgs) validate() error {
	if a.Tenant == "" || a.JobID == "" || a.URL == "" {
		return errors.New("tenant, job_id and url are required")
	}
	return nil
}

func (a WebhookArgs) logAttrs() []slog.Attr {
	return []slog.Attr{slog.String("tenant", a.Tenant), slog.String("job_id", a.JobID)}
}

// WebhookBody is what a callback URL receives.
type WebhookBody struct {
	Event string `json:"event"`
	Job   Job    `json:"job"`
}

// EnqueueWebhook schedules the delivery of a finished job to url. A job is
// delivered once: enqueueing it again is a no-op.
func EnqueueWebhook(ctx context.Context, q Enqueuer, tenant, jobID, url string) error {
	task, err := NewTask(WebhookArgs{Tenant: tenant, JobID: jobID, URL: url}, asynq.TaskID("webhook-"+tenant+"-"+jobID))
	if err != nil {
		return err
	}
	if _, err := q.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("jobs: enqueue webhook of job %s: %w", jobID, err)
	}
	return nil
}

// SignWebhook returns the signature header value of body sent at t.
func SignWebhook(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + webhookMAC(secret, ts, body)
}

func webhookMAC(secret []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// VerifyWebhook checks a received webhook: header is the
// Ragqueue-Signature value, body the raw request body. It fails when the
// signature does not match or the timestamp is further than tolerance from
// now (a replay). Receivers written in Go can call it as it is.
func VerifyWebhook(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return errors.New("jobs: webhook signature header is malformed")
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return errors.New("jobs: webhook timestamp is outside the tolerance")
	}
	want := webhookMAC(secret, ts, body)
	for _, s := range sigs {
		if hmac.Equal([]byte(s), []byte(want)) {
			return nil
		}
	}
	return errors.New("jobs: webhook signature does not match")
}

// webhook POSTs the job's record, signed, to its callback URL through the
// SSRF-guarded client. 2xx delivers; 408, 429, 5xx and network errors are
// retried with backoff; other answers are final.
func (h *handlers) webhook(ctx context.Context, a WebhookArgs) error {
	if h.WebClient == nil || len(h.WebhookSecret) == 0 {
		return permanent(errors.New("jobs: webhooks are not configured on this worker (WebClient and RAGQ_WEBHOOK_SECRET)"))
	}
	job, err := h.Store.GetJob(ctx, a.Tenant, a.JobID)
	if ragqueue.IsNotFound(err) {
		return nil // pruned: nothing to tell
	} else if err != nil {
		return fmt.Errorf("jobs: webhook: get job %s: %w", a.JobID, err)
	}
	body := marshal(WebhookBody{Event: WebhookEvent, Job: job})
	ctx, cancel := context.WithTimeout(ctx, webhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.URL, bytes.NewReader(body))
	if err != nil {
		return permanent(fmt.Errorf("jobs: webhook: %w", err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "ragqueue-webhook/1")
	req.Header.Set("Ragqueue-Job-Id", a.JobID)
	req.Header.Set(WebhookSignatureHeader, SignWebhook(h.WebhookSecret, time.Now(), body))
	resp, err := h.WebClient.Do(req)
	if err != nil {
		if errors.Is(err, web.ErrBlocked) || isInputError(err) {
			return permanent(fmt.Errorf("jobs: webhook to %s: %w", a.URL, err))
		}
		return fmt.Errorf("jobs: webhook to %s: %w", a.URL, err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	switch code := resp.StatusCode; {
	case code >= 200 && code < 300:
		h.Logger.DebugContext(ctx, "webhook delivered", "job_id", a.JobID, "status", code)
		return nil
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("jobs: webhook to %s: status %d", a.URL, code)
	default:
		return permanent(fmt.Errorf("jobs: webhook to %s: status %d", a.URL, code))
	}
}

func (h *handlers) webhookFailed(ctx context.Context, a WebhookArgs, err error) error {
	if !willRetry(ctx, err) {
		h.Logger.WarnContext(ctx, "webhook not delivered", "tenant", a.Tenant, "job_id", a.JobID, "error", err)
	}
	return err
}

// notifyEnd schedules the webhook of a job that just finished, if it has a
// callback URL. Failures are logged: the job itself is done.
func notifyEnd(ctx context.Context, d Deps, tenant, jobID string) {
	url, err := d.Callbacks.Callback(ctx, tenant, jobID)
	if err == nil && url != "" {
		err = EnqueueWebhook(ctx, d.Enqueuer, tenant, jobID, url)
	}
	if err != nil {
		d.Logger.WarnContext(ctx, "schedule webhook", "tenant", tenant, "job_id", jobID, "error", err)
	}
}
