package main

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs/keys"
)

// Keys under which middleware leaves values in the gin context.
const (
	ctxRequestID = "request_id"
	ctxKey       = "api_key"
)

// requestID gives every request an id (or keeps a sane one the client sent)
// and echoes it, so a request can be followed through the logs.
func (s *server) requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-ID")
		if id == "" || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			id = uuid.NewString()
		}
		c.Set(ctxRequestID, id)
		c.Header("X-Request-ID", id)
		c.Next()
	}
}

// accessLog logs one line per request.
func (s *server) accessLog() gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		attrs := []slog.Attr{
			slog.String("request_id", c.GetString(ctxRequestID)),
			slog.String("method", c.Request.Method),
			slog.String("path", c.Request.URL.Path),
			slog.Int("status", c.Writer.Status()),
			slog.Duration("duration", time.Since(start)),
		}
		if k, ok := c.Get(ctxKey); ok {
			attrs = append(attrs, slog.String("tenant", k.(ragqueue.Key).Tenant))
		}
		// The IDs a request is about, under the names the worker logs use,
		// so that one document or job can be followed from api to worker.
		if id := c.Param("id"); id != "" {
			switch {
			case strings.HasPrefix(c.FullPath(), "/v1/documents/"):
				attrs = append(attrs, slog.String("doc_id", id))
			case strings.HasPrefix(c.FullPath(), "/v1/jobs/"):
				attrs = append(attrs, slog.String("job_id", id))
			case strings.HasPrefix(c.FullPath(), "/v1/crawls/"):
				attrs = append(attrs, slog.String("crawl_id", id))
			}
		}
		if v, ok := c.Get(ctxLogAttrs); ok {
			attrs = append(attrs, v.([]slog.Attr)...)
		}
		s.logger.LogAttrs(c.Request.Context(), slog.LevelInfo, "http request", attrs...)
	}
}

// ctxLogAttrs holds attributes handlers add to the request's access log line.
const ctxLogAttrs = "ragq.log_attrs"

// logAttr adds key=value to the request's access log line: the IDs a
// handler created (doc_id, job_id, crawl_id), joined with commas when a
// request made several.
func logAttr(c *gin.Context, key string, values ...string) {
	if len(values) == 0 {
		return
	}
	var attrs []slog.Attr
	if v, ok := c.Get(ctxLogAttrs); ok {
		attrs = v.([]slog.Attr)
	}
	c.Set(ctxLogAttrs, append(attrs, slog.String(key, strings.Join(values, ","))))
}

// recoverJSON turns a handler panic into a JSON 500 instead of a dropped
// connection, and logs it.
func (s *server) recoverJSON() gin.HandlerFunc {
	return gin.CustomRecoveryWithWriter(nil, func(c *gin.Context, v any) {
		s.logger.Error("handler panic", "request_id", c.GetString(ctxRequestID), "panic", v)
		s.fail(c, ragqueue.Errorf(ragqueue.EINTERNAL, "internal error"))
	})
}

// authenticate resolves the bearer key to its stored record. The tenant
// always comes from here, never from the request.
func (s *server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		k, err := s.bearerKey(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		c.Set(ctxKey, k)
		c.Next()
	}
}

// bearerKey returns the key named by the Authorization header; EUNAUTH when
// there is none or it is unknown.
func (s *server) bearerKey(c *gin.Context) (ragqueue.Key, error) {
	scheme, secret, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	secret = strings.TrimSpace(secret)
	if !ok || !strings.EqualFold(scheme, "Bearer") || secret == "" {
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.EUNAUTH, "missing API key: send the header \"Authorization: Bearer <key>\"")
	}
	return s.keys.Authenticate(c.Request.Context(), secret)
}

// require allows the request only for keys whose role is at least role.
func (s *server) require(role string) gin.HandlerFunc {
	return func(c *gin.Context) {
		k := key(c)
		if !ragqueue.RoleAllows(k.Role, role) {
			s.fail(c, ragqueue.Errorf(ragqueue.EFORBIDDEN, "this needs a %s key; yours is a %s key", role, k.Role))
			return
		}
		c.Next()
	}
}

// requireOperator lets through operator keys only (keys.CheckOperator).
func (s *server) requireOperator() gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := keys.CheckOperator(key(c)); err != nil {
			s.fail(c, err)
			return
		}
		c.Next()
	}
}

// limitBody caps the request body before any handler reads it, and refuses
// early when the client announces a larger body.
func (s *server) limitBody(limit int64) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.ContentLength > limit {
			s.fail(c, ragqueue.Errorf(ragqueue.ETOOLARGE,
				"the request body is %d bytes; the limit is %d (RAGQ_MAX_UPLOAD_BYTES)", c.Request.ContentLength, limit))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, limit)
		c.Next()
	}
}

// key returns the authenticated key; only call it behind authenticate.
func key(c *gin.Context) ragqueue.Key {
	k, _ := c.Get(ctxKey)
	return k.(ragqueue.Key)
}

// tenant returns the authenticated key's tenant.
func tenant(c *gin.Context) string { return key(c).Tenant }
