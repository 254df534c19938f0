package main

import (
	"strings"
	"time"

	"github.com/gin-contrib/cors"
	"github.com/gin-gonic/gin"
)

// Content security policies. The API answers JSON only, so nothing may load
// or frame it. The Asynq UI is a single-page app with inline bootstrap
// scripts and Google-hosted fonts; its policy allows those and nothing else.
const (
	apiCSP        = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
	monitoringCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; " +
		"style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; " +
		"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)

// securityHeaders sets the browser hardening headers on every response.
func (s *server) securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if isMonitoringPath(c.Request.URL.Path) {
			h.Set("Content-Security-Policy", monitoringCSP)
		} else {
			h.Set("Content-Security-Policy", apiCSP)
		}
		c.Next()
	}
}

// corsPolicy answers cross-origin requests from RAGQ_CORS_ORIGINS, or does
// nothing when that is empty (the default: browsers then refuse other
// sites' scripts). Keys travel in the Authorization header, never in
// cookies, so credentials are not allowed; /monitoring is same-origin only.
func (s *server) corsPolicy() gin.HandlerFunc {
	if len(s.cfg.CORSOrigins) == 0 {
		return func(c *gin.Context) { c.Next() }
	}
	cfg := cors.Config{
		AllowMethods:  []string{"GET", "POST", "PUT", "DELETE"},
		AllowHeaders:  []string{"Authorization", "Content-Type", "X-Request-ID"},
		ExposeHeaders: []string{"X-Request-ID", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"},
		MaxAge:        12 * time.Hour,
	}
	for _, o := range s.cfg.CORSOrigins {
		if o == "*" {
			cfg.AllowAllOrigins = true
		}
	}
	if !cfg.AllowAllOrigins {
		cfg.AllowOrigins = s.cfg.CORSOrigins
	}
	apply := cors.New(cfg)
	return func(c *gin.Context) {
		if isMonitoringPath(c.Request.URL.Path) {
			c.Next()
			return
		}
		apply(c)
	}
}

// isMonitoringPath reports whether path belongs to the Asynq UI.
func isMonitoringPath(path string) bool {
	return path == monitoringRoot || strings.HasPrefix(path, monitoringRoot+"/")
}
