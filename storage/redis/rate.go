package redis

import (
	"context"
	"fmt"

	"github.com/go-redis/redis_rate/v10"
	"github.com/ragqueue/ragqueue"
	goredis "github.com/redis/go-redis/v9"
)

// Limiter decides whether a request is within its key's rate
// (ragqueue.RateLimiter). It keeps its
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
func (l *Limiter) Allow(ctx context.Context, key string, r ragqueue.Rate) (ragqueue.RateDecision, error) {
	if r.Unlimited() {
		return ragqueue.RateDecision{Allowed: true}, nil
	}
	burst := max(r.Burst, 1)
	res, err := l.rl.Allow(ctx, "ragqueue:"+key, redis_rate.Limit{Rate: r.Events, Burst: burst, Period: r.Per})
	if err != nil {
		return ragqueue.RateDecision{}, fmt.Errorf("redis: rate %s: %w", key, err)
	}
	d := ragqueue.RateDecision{
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
