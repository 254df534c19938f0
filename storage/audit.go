package storage

import (
	"time"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
)

// AuditEntry is one administrative action kept in the metadata database's
// audit log: who (the acting key) did what (Action) to which Target.
type AuditEntry struct {
	ID          string    `json:"id"`
	At          time.Time `json:"at"`
	ActorKeyID  string    `json:"actor_key_id"`
	ActorTenant string    `json:"actor_tenant"`
	// Action names what was done, e.g. key.create, key.revoke, key.rotate,
	// monitoring.login.
	Action string `json:"action"`
	// Target is what it was done to, e.g. a key ID; empty when none.
	Target string `json:"target"`
	// Detail adds context such as the tenant and role of a created key.
	Detail     string `json:"detail"`
	RemoteAddr string `json:"remote_addr"`
	RequestID  string `json:"request_id"`
}

// PrepareAudit validates an entry about to be appended and fills its
// defaults: a new UUID for an empty ID, now for a zero At.
func PrepareAudit(e AuditEntry, now time.Time) (AuditEntry, error) {
	if e.Action == "" {
		return AuditEntry{}, ragqueue.Errorf(ragqueue.EINVALID, "audit entry action is required")
	}
	if e.ID == "" {
		e.ID = uuid.NewString()
	}
	if e.At.IsZero() {
		e.At = now
	}
	return e, nil
}
