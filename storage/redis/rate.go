package redis

import (
	"context"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
)

// Rate is a request budget: Events per Per on average, with up to Burst at
// once. A zero Events means no redis.
type Rate struct {
	Events int
	Per    time.Duration
	Burst  int
}

// Unlimited reports whether r lets everything through.
func (r Rate) Unlimited() bool { return r.Events <= 0 || r.Per <= 0 }

// Decision is the answer to one request against a Rate, with what a client
// needs to know to pace itself.
type Decision struct {
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

// Limiter decides whether a request is within its key's rate. It keeps its
// state in Redis, so all processes sharing that Redis share the budget.
type Limiter struct {
	rl *redis_rate.Limiter
}

// NewLimiter returns a Limiter over rdb.
func NewLimiter(rdb goredis.UniversalClient) *Limiter {
	return &Limiter{rl: redis_rate.NewLimiter(rdb)}
}

// Allow counts one request under key against r. An unlimited r is always
// allowed without touching Redis. Errors are Redis's: the caller chooses to
// fail open or closed.
func (l *Limiter) Allow(ctx context.Context, key string, r Rate) (Decision, error) {
	if r.Unlimited() {
		return Decision{Allowed: true}, nil
	}
	burst := max(r.Burst, 1)
	res, err := l.rl.Allow(ctx, "ragqueue:"+key, redis_rate.Limit{Rate: r.Events, Burst: burst, Period: r.Per})
	if err != nil {
		return Decision{}, fmt.Errorf("limit: rate %s: %w", key, err)
	}
	d := Decision{
		Allowed:    res.Allowed > 0,
		Limit:      burst,
		Remaining:  res.Remaining,
		ResetAfter: max(res.ResetAfter, 0),
	}
	if !d.Allowed {
		d.RetryAfter = max(res.RetryAfter, 0)
	}
	return d, nil
}
