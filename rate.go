package ragqueue

import (
	"context"
	"time"
)

// Rate is a request budget: Events per Per on average, with up to Burst at
// once. A zero Events means no limit.
type Rate struct {
	Events int
	Per    time.Duration
	Burst  int
}

// Unlimited reports whether r lets everything through.
func (r Rate) Unlimited() bool { return r.Events <= 0 || r.Per <= 0 }

// RateDecision is the answer to one request against a Rate, with what a
// client needs to know to pace itself.
type RateDecision struct {
	Allowed bool
	// Limit is the most requests allowed at once (the burst).
	Limit int
	// Remaining is how many requests would be allowed right now.
	Remaining int
	// RetryAfter is how long until the next request is allowed; zero when
	// this one was.
	RetryAfter time.Duration
	// ResetAfter is how long until the full burst is available again.
	ResetAfter time.Duration
}

// RateLimiter counts one request under key against r. Its state is shared
// by every process (storage/redis keeps it in Redis); errors are the
// backend's, and the caller chooses to fail open or closed.
type RateLimiter interface {
	Allow(ctx context.Context, key string, r Rate) (RateDecision, error)
}
