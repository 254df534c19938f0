package app

import (
	goredis "github.com/redis/go-redis/v9"

	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage/redis"
)

// Option adjusts what Open built before the use cases are built on it.
// Tests use them to slow or fake the models.
type Option func(*App)

// WithGenerator answers questions with g instead of RAGQ_LLM's generator.
func WithGenerator(g retrieval.Generator) Option {
	return func(a *App) { a.generator = g }
}

// WrapEmbedder puts wrap's embedder around the live space's: searches and
// ingestion then use one fixed space with it, over the live index. The
// batching policy stays that of the configured embedder.
func WrapEmbedder(wrap func(live retrieval.Embedder) retrieval.Embedder) Option {
	return func(a *App) {
		a.embedder = wrap(a.embedder)
		a.spaces = retrieval.StaticSpaces(a.embedder, a.index)
	}
}

func (a *App) apply(opts []Option) {
	for _, opt := range opts {
		opt(a)
	}
}

// Store is the metadata database, for tests and tools that seed state
// the use cases would not create (a job that lost its task, say).
func (a *App) Store() MetaStore { return a.store }

// Streams are the job event streams in Redis, for tests and tools that
// publish events as a worker would.
func (a *App) Streams() *redis.Streams { return a.streams }

// RedisPoolStats are the figures of the Redis connection pool the queue
// and the event streams share, for benchmarks of what streams cost.
func (a *App) RedisPoolStats() *goredis.PoolStats { return a.redis.PoolStats() }
