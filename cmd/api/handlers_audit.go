package main

import (
	"context"
	"net/http"

	"github.com/ragqueue/ragqueue"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue/storage"
)

// audit records an admin action by the request's key. The action has
// already happened, so a failure to record it is logged, loudly, rather
// than reported to the client as if the action had failed.
func (s *server) audit(c *gin.Context, action, target, detail string) {
	if s.admin == nil {
		return
	}
	k := key(c)
	e := ragqueue.AuditEntry{
		ActorKeyID: k.ID, ActorTenant: k.Tenant, Action: action, Target: target, Detail: detail,
		RemoteAddr: c.RemoteIP(), RequestID: c.GetString(ctxRequestID),
	}
	if err := s.admin.AppendAudit(context.WithoutCancel(c.Request.Context()), e); err != nil {
		s.logger.Error("audit log write failed", "request_id", e.RequestID, "action", action,
			"target", target, "key_id", k.ID, "error", err)
	}
}

// listAudit pages through the audit log, newest first.
func (s *server) listAudit(c *gin.Context) {
	limit, err := intParam(c.Query("limit"), storage.DefaultListLimit, 1, storage.MaxListLimit, "limit")
	if err != nil {
		s.fail(c, err)
		return
	}
	entries, next, err := s.admin.ListAudit(c.Request.Context(), c.Query("cursor"), limit)
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
