package jobs

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
)

// Webhooks: a job created with a CallbackURL gets a signed POST when it
// ends, sent by a task of its own (retried with backoff) through the
// SSRF-guarded client, so that a slow or failing receiver never holds up
// the job and an address inside the network is never reached.
const (
	// WebhookSignatureHeader carries "t=<unix seconds>,v1=<hex
	// HMAC-SHA256>" over "<t>.<body>" with the webhook secret.
	WebhookSignatureHeader = "Ragqueue-Signature"
	// WebhookEvent is the event field of every delivery.
	WebhookEvent = "job.finished"
)

// WebhookPayload is the body a callback URL receives: the event and the job
// as GET /v1/jobs/{id} shows it.
type WebhookPayload struct {
	Event string       `json:"event"` // "job.finished"
	Job   ragqueue.Job `json:"job"`
}

// Sign returns the WebhookSignatureHeader value for body sent at t.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyWebhook checks a delivery as a receiver must: header is the
// WebhookSignatureHeader value, body the raw request body. It fails when
// the signature does not match or the timestamp is further than tolerance
// from now (a replayed delivery).
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
	want := Sign(secret, time.Unix(sec, 0), body)
	for _, sig := range sigs {
		if hmac.Equal([]byte("t="+ts+",v1="+sig), []byte(want)) {
			return nil
		}
	}
	return errors.New("jobs: webhook signature does not match")
}

// notifyWebhook enqueues the webhook of a job that update u ended, when
// the job has a callback URL. The task ID is the job's, so a job ended
// twice (a retried step) is notified once.
func notifyWebhook(ctx context.Context, store ragqueue.JobStore, enq Enqueuer, logger *slog.Logger, tenant, id string, u ragqueue.JobUpdate) {
	if u.State == nil || !u.State.Terminal() {
		return
	}
	job, err := store.GetJob(ctx, tenant, id)
	if err != nil || job.CallbackURL == "" {
		return
	}
	task, err := NewTask(WebhookArgs{Tenant: tenant, JobID: id})
	if err == nil {
		_, err = enq.EnqueueContext(ctx, task)
	}
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		// The job's outcome is recorded; only its notification is lost.
		logger.WarnContext(ctx, "could not enqueue webhook", "tenant", tenant, "job_id", id, "error", err)
	}
}

// EnqueueOption adjusts the job record an Enqueue call creates.
type EnqueueOption func(*ragqueue.Job)

// WithCallback makes the job notify url when it ends.
func WithCallback(url string) EnqueueOption {
	return func(j *ragqueue.Job) { j.CallbackURL = url }
}
