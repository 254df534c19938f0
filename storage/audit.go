package storage

import (
	"time"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
)

// PrepareAudit validates an entry about to be appended and fills its
// defaults: a new UUID for an empty ID, now for a zero At.
func PrepareAudit(e ragqueue.AuditEntry, now time.Time) (ragqueue.AuditEntry, error) {
	if e.Action == "" {
		return ragqueue.AuditEntry{}, ragqueue.Errorf(ragqueue.EINVALID, "audit entry action is required")
	}
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.At.IsZero() {
		e.At = now
	}
	return e, nil
}
