package main

import (
	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
)

// observe records every request's latency and status by route template
// (gin's FullPath, "unmatched" for unknown paths), so that ids in paths do
// not multiply the series.
func (s *server) observe() gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.httpMetrics == nil {
			c.Next()
			return
		}
		done := s.httpMetrics.Start(c.Request.Method)
		c.Next()
		done(c.FullPath(), c.Writer.Status())
	}
}

// serveMetrics answers /metrics on the main router (admin keys only; with
// RAGQ_METRICS_ADDR set, the same figures are also served there without a
// key).
func (s *server) serveMetrics(c *gin.Context) {
	if s.metrics == nil {
		s.fail(c, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "metrics are not set up in this process"))
		return
	}
	s.metrics.ServeHTTP(c.Writer, c.Request)
}
