// Package limit holds ragqueue's usage limits kept in Redis, shared by every
// api and worker process: per-key request rates (GCRA, through
// github.com/go-redis/redis_rate) and per-tenant daily LLM token budgets.
package limit
