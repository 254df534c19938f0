package app

import (
	"context"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/storage/redis"
)

// eventSource hands jobs.Feed the Redis event streams.
type eventSource struct{ streams *redis.Streams }

var _ jobs.EventSource = eventSource{}

func (e eventSource) Subscribe(ctx context.Context, tenant, jobID, lastID string) (jobs.Subscription, error) {
	sub, err := e.streams.Subscribe(ctx, tenant, jobID, lastID)
	if err != nil {
		return nil, err
	}
	return sub, nil
}

func (e eventSource) Exists(ctx context.Context, tenant, jobID string) (bool, error) {
	return e.streams.Exists(ctx, tenant, jobID)
}
