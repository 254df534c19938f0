package main

import (
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// maxCallbackURL bounds a callback_url.
const maxCallbackURL = 2048

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

// checkCallback validates a callback_url and returns it trimmed ("" when
// none). The URL's address is checked again at each delivery, by the SSRF
// guard, since a name may resolve elsewhere later.
func (s *server) checkCallback(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if len(s.cfg.WebhookSecret) == 0 {
		return "", ragqueue.Errorf(ragqueue.EINVALID, "callback_url needs the server to sign its notifications: set RAGQ_WEBHOOK_SECRET")
	}
	u, err := url.Parse(raw)
	switch {
	case len(raw) > maxCallbackURL:
		return "", invalid("callback_url is longer than %d characters", maxCallbackURL)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "", invalid("callback_url must be an absolute http or https URL, e.g. https://hooks.example.com/ragqueue")
	case u.User != nil:
		return "", invalid("callback_url must not carry a user name or password")
	}
	return raw, nil
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
