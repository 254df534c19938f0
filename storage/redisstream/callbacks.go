package redisstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/ragqueue/ragqueue/jobs"
)

// DefaultCallbackTTL is how long a job's callback URL is kept: longer than
// any job runs.
const DefaultCallbackTTL = 7 * 24 * time.Hour

// Callbacks keeps the callback_url of jobs in Redis, where every API and
// worker process sees it, keyed by tenant and job like the event streams.
type Callbacks struct {
	rdb    redis.UniversalClient
	prefix string
	ttl    time.Duration
}

var _ jobs.CallbackStore = (*Callbacks)(nil)

// NewCallbacks returns Callbacks over rdb; ttl ≤ 0 means DefaultCallbackTTL.
func NewCallbacks(rdb redis.UniversalClient, ttl time.Duration) *Callbacks {
	if ttl <= 0 {
		ttl = DefaultCallbackTTL
	}
	return &Callbacks{rdb: rdb, prefix: "ragqueue:callback", ttl: ttl}
}

func (c *Callbacks) key(tenant, jobID string) string {
	return c.prefix + ":{" + tenant + "}:" + jobID
}

// Register records url as the job's callback.
func (c *Callbacks) Register(ctx context.Context, tenant, jobID, url string) error {
	if err := c.rdb.Set(ctx, c.key(tenant, jobID), url, c.ttl).Err(); err != nil {
		return fmt.Errorf("redisstream: register callback of job %s: %w", jobID, err)
	}
	return nil
}

// Callback implements jobs.CallbackStore.
func (c *Callbacks) Callback(ctx context.Context, tenant, jobID string) (string, error) {
	url, err := c.rdb.Get(ctx, c.key(tenant, jobID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	} else if err != nil {
		return "", fmt.Errorf("redisstream: callback of job %s: %w", jobID, err)
	}
	return url, nil
}
