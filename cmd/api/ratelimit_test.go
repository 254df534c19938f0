package main

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/ragqueue/ragqueue"

	"github.com/gin-gonic/gin"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
	"github.com/ragqueue/ragqueue/storage/redis"
)

// TestRateLimitFailsOpen: with Redis unreachable the request goes through
// and a warning is logged.
func TestRateLimitFailsOpen(t *testing.T) {
	t.Parallel()
	rdb := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { _ = rdb.Close() })
	var logs bytes.Buffer
	s := &server{
		cfg:     app.Config{RateLimitRPS: 1, RateLimitBurst: 1, RateLimitExpensiveRPM: 1},
		logger:  slog.New(slog.NewTextHandler(&logs, nil)),
		limiter: redis.NewLimiter(rdb),
	}
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.GET("/x", func(c *gin.Context) { c.Set(ctxKey, ragqueue.Key{ID: "k1"}) }, s.rateLimit(), s.rateLimitExpensive(),
		func(c *gin.Context) { c.Status(http.StatusNoContent) })
	for range 3 {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/x", nil))
		require.Equal(t, http.StatusNoContent, w.Code)
		require.Empty(t, w.Header().Get("RateLimit-Limit"))
	}
	require.Contains(t, logs.String(), "rate limit unavailable")
}
