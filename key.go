package ragqueue

import (
	"context"
	"time"
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

// Key is a stored API key. The secret itself is never stored: Hash is its
// SHA-256.
type Key struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Role      string    `json:"role"`
	Hash      []byte    `json:"-"`
	Prefix    string    `json:"prefix"` // first characters of the secret, to tell keys apart in listings
	CreatedAt time.Time `json:"created_at"`
}

// Roles of API keys, from least to most powerful; each allows what the ones
// before it allow.
const (
	RoleReader = "reader" // search and ask, read documents and jobs
	RoleWriter = "writer" // reader + ingest and delete documents
	RoleAdmin  = "admin"  // writer + manage keys
)

// roleRank orders the roles; unknown roles rank 0 and allow nothing.
func roleRank(role string) int {
	switch role {
	case RoleReader:
		return 1
	case RoleWriter:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// ValidRole reports whether role is one of the known roles.
func ValidRole(role string) bool { return roleRank(role) > 0 }

// RoleAllows reports whether a key with role has may do what needs requires.
func RoleAllows(has, needs string) bool { return roleRank(has) > 0 && roleRank(has) >= roleRank(needs) }

// KeyStore keeps API keys. The secret itself is never stored, only its hash.
type KeyStore interface {
	CreateKey(ctx context.Context, k Key) error
	KeyByHash(ctx context.Context, hash []byte) (Key, error)
	ListKeys(ctx context.Context) ([]Key, error)
	DeleteKey(ctx context.Context, id string) error
	CountKeys(ctx context.Context) (int, error)
	// RotateKey replaces the secret of key id (its hash and prefix) and
	// returns the updated key.
	RotateKey(ctx context.Context, id string, hash []byte, prefix string) (Key, error)
}

// AuditStore keeps the append-only log of administrative actions.
type AuditStore interface {
	AppendAudit(ctx context.Context, e AuditEntry) error
	// ListAudit pages through the log, newest first; cursor is the
	// nextCursor of the previous page.
	ListAudit(ctx context.Context, cursor string, limit int) (entries []AuditEntry, nextCursor string, err error)
}
