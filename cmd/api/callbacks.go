package main

import (
	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue/jobs"
)

// ctxCallback holds the request's validated callback_url.
const ctxCallback = "ragq.callback_url"

// setCallback validates a request's callback_url and keeps it for the job
// the request creates.
func (s *server) setCallback(c *gin.Context, raw string) error {
	u, err := s.checkCallback(raw)
	if err == nil && u != "" {
		c.Set(ctxCallback, u)
	}
	return err
}

// checkCallback validates a callback_url (jobs.CheckCallback) and returns
// it trimmed ("" when none).
func (s *server) checkCallback(raw string) (string, error) {
	return jobs.CheckCallback(raw, len(s.cfg.WebhookSecret) > 0)
}

// enqueueOpts are the job options of the request: its callback, if any.
func enqueueOpts(c *gin.Context) []jobs.EnqueueOption {
	return callbackOpts(c.GetString(ctxCallback))
}

// callbackOpts are the job options for a checked callback URL ("": none).
func callbackOpts(u string) []jobs.EnqueueOption {
	if u == "" {
		return nil
	}
	return []jobs.EnqueueOption{jobs.WithCallback(u)}
}
