package main

import (
	"context"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// callbackRegistry records jobs' callback URLs. *redisstream.Callbacks is one.
type callbackRegistry interface {
	Register(ctx context.Context, tenant, jobID, url string) error
}

// webhooks is what the API needs to accept callback_url.
type webhooks struct {
	registry callbackRegistry
	queue    jobs.Enqueuer
}

// ctxCallbackURL holds an upload request's validated callback_url.
const ctxCallbackURL = "ragqueue.callback_url"

// maxCallbackURL bounds a callback_url.
const maxCallbackURL = 2048

// checkCallback validates a callback_url ("" is none). Where it may point
// is checked when it is called, by the SSRF guard that every outbound
// request goes through.
func (s *server) checkCallback(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if s.cfg.WebhookSecret == "" || s.webhooks.registry == nil {
		return "", invalid("callback_url is not available: this server has no RAGQ_WEBHOOK_SECRET to sign webhooks with")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || len(raw) > maxCallbackURL {
		return "", invalid("callback_url must be an absolute http(s) URL of at most %d characters", maxCallbackURL)
	}
	if u.User != nil {
		return "", invalid("callback_url must not carry credentials; verify the signature header instead")
	}
	return u.String(), nil
}

// registerCallback makes the job's end POST to callbackURL. A job that has
// already ended is delivered at once: the worker may have looked for a
// callback before it was registered.
func (s *server) registerCallback(ctx context.Context, tenant, jobID, callbackURL string) error {
	if callbackURL == "" {
		return nil
	}
	if err := s.webhooks.registry.Register(ctx, tenant, jobID, callbackURL); err != nil {
		return unavailable("the webhook registry", err)
	}
	job, err := s.jobs.GetJob(ctx, tenant, jobID)
	if ragqueue.IsNotFound(err) {
		return nil // not recorded yet (an upload registers first): not ended either
	} else if err != nil {
		return err
	}
	if job.State.Terminal() {
		if err := jobs.EnqueueWebhook(ctx, s.webhooks.queue, tenant, jobID, callbackURL); err != nil {
			return unavailable("the job queue", err)
		}
	}
	return nil
}

// setUploadCallback validates an upload's callback_url and keeps it for
// createDocument.
func (s *server) setUploadCallback(c *gin.Context, raw string) error {
	u, err := s.checkCallback(raw)
	if err != nil {
		return err
	}
	c.Set(ctxCallbackURL, u)
	return nil
}

// uploadCallback registers the upload's callback_url, if any, for a
// document's job.
func (s *server) uploadCallback(c *gin.Context, jobID string) error {
	u := c.GetString(ctxCallbackURL)
	if u == "" {
		return nil
	}
	if err := s.registerCallback(c.Request.Context(), tenant(c), jobID, u); err != nil {
		return ragqueue.Errorf(ragqueue.ErrorCode(err), "could not register the callback_url: %s", ragqueue.ErrorMessage(err))
	}
	return nil
}
