package sqlstore

import (
	"context"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const auditColumns = `id, at, actor_key_id, actor_tenant, action, target, detail, remote_addr, request_id`

// AppendAudit adds e to the audit log. An empty ID becomes a new UUID and a
// zero At becomes now; a duplicate ID is ECONFLICT.
func (s *Store) AppendAudit(ctx context.Context, e ragqueue.AuditEntry) error {
	e, err := storage.PrepareAudit(e, now())
	if err != nil {
		return err
	}
	_, err = s.w.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, s.d.time(e.At), e.ActorKeyID, e.ActorTenant, e.Action, e.Target, e.Detail, e.RemoteAddr, e.RequestID)
	if s.conflict(err) {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "audit entry %s already exists", e.ID)
	} else if err != nil {
		return s.errorf("append audit %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit pages through the audit log, newest first. cursor is the
// previous page's next cursor ("" for the first page); limit defaults to 50
// and is clamped to 500.
func (s *Store) ListAudit(ctx context.Context, cursor string, limit int) ([]ragqueue.AuditEntry, string, error) {
	limit = storage.ClampLimit(limit)
	q, args, err := s.newestFirst(`SELECT `+auditColumns+` FROM audit_log`, nil, " WHERE ", "at", cursor, limit)
	if err != nil {
		return nil, "", err
	}
	entries, err := list(ctx, s.r, scanAudit, q, args...)
	if err != nil {
		return nil, "", s.errorf("list audit: %w", err)
	}
	entries, next := storage.Page(entries, limit, func(e ragqueue.AuditEntry) (time.Time, string) { return e.At, e.ID })
	return entries, next, nil
}

// scanAudit reads one row of auditColumns.
func scanAudit(sc scanner) (ragqueue.AuditEntry, error) {
	var e ragqueue.AuditEntry
	err := sc.Scan(&e.ID, timeCol{&e.At}, &e.ActorKeyID, &e.ActorTenant, &e.Action, &e.Target, &e.Detail, &e.RemoteAddr, &e.RequestID)
	return e, err
}
