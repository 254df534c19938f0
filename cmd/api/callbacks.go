package main

import (
	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue/jobs"
)

// ctxCallback holds the request's validated callback_url.
const ctxCallback = "ragq.callback_url"

// setCallback validates a request's callback_url (jobs.CheckCallback) while
// the request is read, so that a bad one is refused where it comes, and
// keeps it for the job the request creates (callbackOf).
func (s *server) setCallback(c *gin.Context, raw string) error {
	u, err := jobs.CheckCallback(raw, len(s.cfg.WebhookSecret) > 0)
	if err == nil && u != "" {
		c.Set(ctxCallback, u)
	}
	return err
}

// callbackOf is the request's checked callback_url ("": none).
func callbackOf(c *gin.Context) string {
	return c.GetString(ctxCallback)
}
