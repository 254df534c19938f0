package jobs

import (
	"net/url"
	"strings"

	"github.com/ragqueue/ragqueue"
)

// MaxCallbackURL bounds a callback_url.
const MaxCallbackURL = 2048

// CheckCallback validates a job's callback_url and returns it trimmed (""
// when none). signing says whether notifications can be signed (a webhook
// secret is set): without it no callback is accepted. The URL's address is
// checked again at each delivery, by the SSRF guard, since a name may
// resolve elsewhere later.
func CheckCallback(raw string, signing bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", nil
	}
	if !signing {
		return "", ragqueue.Errorf(ragqueue.EINVALID, "callback_url needs the server to sign its notifications: set RAGQ_WEBHOOK_SECRET")
	}
	u, err := url.Parse(raw)
	switch {
	case len(raw) > MaxCallbackURL:
		return "", ragqueue.Errorf(ragqueue.EINVALID, "callback_url is longer than %d characters", MaxCallbackURL)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "", ragqueue.Errorf(ragqueue.EINVALID, "callback_url must be an absolute http or https URL, e.g. https://hooks.example.com/ragqueue")
	case u.User != nil:
		return "", ragqueue.Errorf(ragqueue.EINVALID, "callback_url must not carry a user name or password")
	}
	return raw, nil
}
