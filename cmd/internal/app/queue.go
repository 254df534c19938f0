package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/hibiken/asynq"
	goredis "github.com/redis/go-redis/v9"

	"github.com/ragqueue/ragqueue/storage/redis"
)

// openQueue connects to Redis, or in embedded mode starts the in-process
// one and keeps its clock moving until ctx ends, and makes the queue's
// clients and the event streams on one connection pool.
func (a *App) openQueue(ctx context.Context) error {
	cfg := a.cfg
	if cfg.Embedded() {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return fmt.Errorf("app: start embedded redis: %w", err)
		}
		a.closers = append(a.closers, func() error { m.Close(); return nil })
		go redis.RunMiniredisClock(ctx, m, 100*time.Millisecond)
		a.redisOpt = asynq.RedisClientOpt{Addr: m.Addr()}
	} else {
		opt, err := asynq.ParseRedisURI(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("app: RAGQ_REDIS_URL: %w", err)
		}
		a.redisOpt = opt
	}
	rc, ok := a.redisOpt.MakeRedisClient().(goredis.UniversalClient)
	if !ok {
		return errors.New("app: unexpected redis client type")
	}
	a.redis = rc
	a.closers = append(a.closers, rc.Close)
	// One connection pool for both; closing rc closes queue's.
	a.queue = asynq.NewClientFromRedisClient(rc)
	a.inspector = asynq.NewInspectorFromRedisClient(rc)
	a.streams = redis.NewStreams(rc, redis.StreamOptions{TTL: cfg.EventsTTL, MaxLen: cfg.EventsMaxLen, Logger: a.logger})
	a.closers = append(a.closers, a.streams.Close)
	return nil
}
