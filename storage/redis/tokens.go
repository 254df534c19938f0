package redis

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ragqueue/ragqueue"
)

// TokenBudget caps the LLM tokens one tenant may use per UTC day. The
// count lives in Redis, shared by every worker; a day's counter expires on
// its own two days later.
type TokenBudget struct {
	rdb   goredis.UniversalClient
	daily int64
	now   func() time.Time
}

// NewTokenBudget returns a budget of daily tokens per tenant over rdb; a
// daily of zero or less means no cap (Allow always passes, Add still counts).
func NewTokenBudget(rdb goredis.UniversalClient, daily int64) *TokenBudget {
	return &TokenBudget{rdb: rdb, daily: daily, now: time.Now}
}

func (b *TokenBudget) key(tenant string) string {
	return "ragqueue:tokens:" + tenant + ":" + b.now().UTC().Format("2006-01-02")
}

// Allow returns nil while tenant has tokens left today, and a
// ragqueue.Error with code ERATELIMIT once the day's budget is spent. Call it
// before an LLM call; other errors are Redis's.
func (b *TokenBudget) Allow(ctx context.Context, tenant string) error {
	if b.daily <= 0 {
		return nil
	}
	used, err := b.Used(ctx, tenant)
	if err != nil {
		return err
	}
	if used >= b.daily {
		return ragqueue.Errorf(ragqueue.ERATELIMIT,
			"tenant %s has used its %d LLM tokens for today (RAGQ_TENANT_DAILY_TOKENS); the budget resets at 00:00 UTC", tenant, b.daily)
	}
	return nil
}

// Add records n tokens used by tenant today and returns the day's total.
// Call it after an LLM call with the tokens it reported.
func (b *TokenBudget) Add(ctx context.Context, tenant string, n int) (int64, error) {
	if n < 0 {
		return 0, fmt.Errorf("limit: add %d tokens: negative count", n)
	}
	key := b.key(tenant)
	var incr *goredis.IntCmd
	_, err := b.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		incr = p.IncrBy(ctx, key, int64(n))
		p.Expire(ctx, key, 48*time.Hour)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("limit: add tokens for %s: %w", tenant, err)
	}
	return incr.Val(), nil
}

// Used returns the tokens tenant has used today.
func (b *TokenBudget) Used(ctx context.Context, tenant string) (int64, error) {
	n, err := b.rdb.Get(ctx, b.key(tenant)).Int64()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("limit: tokens used by %s: %w", tenant, err)
	}
	return n, nil
}
