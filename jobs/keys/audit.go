package keys

import (
	"context"

	"github.com/ragqueue/ragqueue"
)

// Audit records an administrative action by the actor. The action has
// already happened, so a failure to record it (or a client that left
// meanwhile) does not undo it: the failure is logged, loudly.
func (s *Service) Audit(ctx context.Context, by Actor, action, target, detail string) {
	if s.audit == nil {
		return
	}
	e := ragqueue.AuditEntry{
		ActorKeyID: by.Key.ID, ActorTenant: by.Key.Tenant, Action: action, Target: target, Detail: detail,
		RemoteAddr: by.RemoteAddr, RequestID: by.RequestID,
	}
	if err := s.audit.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.logger.Error("audit log write failed", "request_id", e.RequestID, "action", action,
			"target", target, "key_id", by.Key.ID, "error", err)
	}
}

// AuditLog pages through the audit log, newest first: up to limit entries
// after cursor ("" for the newest), and the cursor of the next page ("" at
// the end).
func (s *Service) AuditLog(ctx context.Context, cursor string, limit int) ([]ragqueue.AuditEntry, string, error) {
	if s.audit == nil {
		return nil, "", ragqueue.Errorf(ragqueue.EUNAVAILABLE, "this process keeps no audit log")
	}
	return s.audit.ListAudit(ctx, cursor, limit)
}
