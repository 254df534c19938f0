// Package redis holds ragqueue's adapters over Redis (a real server or the
// in-process miniredis of embedded mode), shared by every api and worker
// process:
//
//   - Streams keeps each job's events in a Redis Stream of its own, so that
//     any API process can relay them to clients (SSE, WebSocket) while any
//     worker process produces them. A subscriber reads the backlog first,
//     then new entries as they arrive; entry IDs let a client resume exactly
//     where it stopped.
//   - Limiter enforces per-key request rates (GCRA, through
//     github.com/go-redis/redis_rate) and TokenBudget per-tenant daily LLM
//     token budgets.
//   - RunMiniredisClock makes miniredis expire keys with the wall clock.
//
// The go-redis client package is imported as goredis here and by callers
// that use both.
package redis
