package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
)

// jsonBodyLimit caps request bodies that are not uploads.
const jsonBodyLimit = 1 << 20

// routes registers every route. /openapi.json must describe each of them;
// a test checks it.
func (s *server) routes() http.Handler {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.ContextWithFallback = true // c.Done()/c.Err() follow the request context
	r.Use(s.requestID(), s.observe(), s.securityHeaders(), s.corsPolicy(), s.accessLog(), s.recoverJSON())
	r.NoRoute(func(c *gin.Context) {
		s.fail(c, ragqueue.Errorf(ragqueue.ENOTFOUND, "no route %s %s; see /openapi.json", c.Request.Method, c.Request.URL.Path))
	})
	r.NoMethod(func(c *gin.Context) {
		s.fail(c, ragqueue.Errorf("method_not_allowed", "%s is not allowed on %s; see /openapi.json", c.Request.Method, c.Request.URL.Path))
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.json", s.openapi)

	small := s.limitBody(jsonBodyLimit)
	v1 := r.Group("/v1", s.authenticate(), s.rateLimit())
	expensive := s.rateLimitExpensive()

	v1.POST("/documents", s.require(ragqueue.RoleWriter), s.limitBody(s.cfg.MaxUploadBytes), s.createDocuments)
	v1.GET("/documents", s.require(ragqueue.RoleReader), s.listDocuments)
	v1.GET("/documents/:id", s.require(ragqueue.RoleReader), s.getDocument)
	v1.PUT("/documents/:id", s.require(ragqueue.RoleWriter), s.limitBody(s.cfg.MaxUploadBytes), s.putDocument)
	v1.DELETE("/documents/:id", s.require(ragqueue.RoleWriter), s.deleteDocument)
	v1.POST("/documents/:id/retry", s.require(ragqueue.RoleWriter), small, s.retryDocument)

	v1.GET("/search", s.require(ragqueue.RoleReader), s.search)
	v1.POST("/queries", s.require(ragqueue.RoleReader), expensive, small, s.createQuery)
	v1.GET("/conversations/:id", s.require(ragqueue.RoleReader), s.getConversation)
	v1.DELETE("/conversations/:id", s.require(ragqueue.RoleReader), s.deleteConversation)
	v1.GET("/jobs/:id", s.require(ragqueue.RoleReader), s.getJob)
	v1.GET("/jobs/:id/events", s.require(ragqueue.RoleReader), s.jobEvents)
	v1.POST("/crawls", s.require(ragqueue.RoleWriter), expensive, small, s.createCrawl)
	v1.GET("/crawls/:id", s.require(ragqueue.RoleReader), s.getCrawl)

	admin := v1.Group("/admin", s.requireOperator())
	admin.POST("/keys", small, s.createKey)
	admin.GET("/keys", s.listKeys)
	admin.DELETE("/keys/:id", s.deleteKey)
	admin.POST("/reindex", small, s.reindex)
	admin.POST("/keys/:id/rotate", s.rotateKey)
	admin.GET("/audit", s.listAudit)
	// Sign-in to the Asynq UI also takes the key from its HTML form, so it
	// authenticates on its own.
	r.POST("/v1/admin/monitoring-session", small, s.authenticateLogin(), s.rateLimit(), s.requireOperator(), s.createMonitoringSession)

	// Operators: the Asynq web UI and Prometheus metrics, admin keys only.
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		r.Handle(method, monitoringRoot+"/*path", s.monitoringAuth(), s.serveMonitoring)
	}
	r.GET("/metrics", s.authenticate(), s.requireOperator(), s.serveMetrics)

	// Browsers cannot set headers on a WebSocket: the key may come as a
	// subprotocol instead (see wsKeyFromProtocol).
	r.GET("/v1/ws", wsKeyFromProtocol(), s.authenticate(), s.require(ragqueue.RoleReader), s.ws)
	return r
}

func (s *server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz reports whether every dependency answers; 503 names the ones that
// don't.
func (s *server) readyz(c *gin.Context) {
	checks := s.ready(c.Request.Context())
	out := make(map[string]string, len(checks))
	status, code := "ready", http.StatusOK
	for name, err := range checks {
		out[name] = "ok"
		if err != nil {
			s.logger.Warn("readiness check failed", "check", name, "error", err)
			out[name] = "unavailable"
			status, code = "not ready", http.StatusServiceUnavailable
		}
	}
	c.JSON(code, gin.H{"status": status, "checks": out})
}
