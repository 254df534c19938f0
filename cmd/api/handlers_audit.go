package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue/jobs/keys"
)

// audit records an admin action by the request's key (keys.Audit: a
// failure is logged, not reported, as the action has already happened).
func (s *server) audit(c *gin.Context, action, target, detail string) {
	if s.keys == nil {
		return
	}
	s.keys.Audit(c.Request.Context(), actor(c), action, target, detail)
}

// listAudit pages through the audit log, newest first.
func (s *server) listAudit(c *gin.Context) {
	limit, err := intParam(c.Query("limit"), keys.DefaultAuditPage, 1, keys.MaxAuditPage, "limit")
	if err != nil {
		s.fail(c, err)
		return
	}
	entries, next, err := s.keys.AuditLog(c.Request.Context(), c.Query("cursor"), limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	var nextCursor *string
	if next != "" {
		nextCursor = &next
	}
	c.JSON(http.StatusOK, gin.H{"entries": entries, "next_cursor": nextCursor})
}
