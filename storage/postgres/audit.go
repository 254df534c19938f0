package postgres

import (
	"context"
	"fmt"
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
	_, err = s.pool.Exec(ctx, `INSERT INTO audit_log (`+auditColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		e.ID, ts(e.At), e.ActorKeyID, e.ActorTenant, e.Action, e.Target, e.Detail, e.RemoteAddr, e.RequestID)
	if isUniqueViolation(err) {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "audit entry %s already exists", e.ID)
	} else if err != nil {
		return fmt.Errorf("postgres: append audit %s: %w", e.Action, err)
	}
	return nil
}

// ListAudit pages through the audit log, newest first. cursor is the
// previous page's next cursor ("" for the first page); limit defaults to 50
// and is clamped to 500.
func (s *Store) ListAudit(ctx context.Context, cursor string, limit int) ([]ragqueue.AuditEntry, string, error) {
	limit = storage.ClampLimit(limit)
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	var args []any
	if cursor != "" {
		at, id, err := storage.DecodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		q += ` WHERE (at, id) < ($1, $2)`
		args = append(args, ts(at), id)
	}
	q += fmt.Sprintf(` ORDER BY at DESC, id DESC LIMIT $%d`, len(args)+1)
	args = append(args, limit+1)
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list audit: %w", err)
	}
	defer rows.Close()
	entries := []ragqueue.AuditEntry{}
	for rows.Next() {
		var e ragqueue.AuditEntry
		if err := rows.Scan(&e.ID, &e.At, &e.ActorKeyID, &e.ActorTenant, &e.Action, &e.Target, &e.Detail, &e.RemoteAddr, &e.RequestID); err != nil {
			return nil, "", fmt.Errorf("postgres: list audit: %w", err)
		}
		e.At = e.At.UTC()
		entries = append(entries, e)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("postgres: list audit: %w", err)
	}
	entries, next := storage.Page(entries, limit, func(e ragqueue.AuditEntry) (time.Time, string) { return e.At, e.ID })
	return entries, next, nil
}
