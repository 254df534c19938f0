// Package keys is where API keys are minted, checked and revoked, and where
// administrative actions are written to the audit log. Every face (REST,
// the monitoring UI's sign-in, a CLI through them) goes through it.
package keys

import (
	"context"
	"log/slog"

	"github.com/ragqueue/ragqueue"
)

// DefaultTenant is the operators' tenant: the tenant of the admin key that
// Bootstrap registers, and of the jobs the processes start on their own (a
// re-index).
const DefaultTenant = "default"

// Page sizes of AuditLog: the default, and the most one call may ask for.
const (
	DefaultAuditPage = 50
	MaxAuditPage     = 500
)

// Config is what a Service works with.
type Config struct {
	Keys  ragqueue.KeyStore
	Audit ragqueue.AuditStore
	// Logger receives bootstrap notices and audit log failures; nil
	// discards.
	Logger *slog.Logger
}

// Service mints, authenticates, rotates and revokes API keys and keeps
// the audit log of administrative actions.
type Service struct {
	keys   ragqueue.KeyStore
	audit  ragqueue.AuditStore
	logger *slog.Logger
}

// New returns a Service over cfg's stores. It panics without a key store
// (a wiring bug); without an audit store, actions are not recorded and
// AuditLog fails.
func New(cfg Config) *Service {
	if cfg.Keys == nil {
		panic("keys: New needs a key store")
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{keys: cfg.Keys, audit: cfg.Audit, logger: logger}
}

// Actor is who performs an administrative action: the request's key, and
// where the request came from, as the audit log records it.
type Actor struct {
	Key        ragqueue.Key
	RemoteAddr string
	RequestID  string
}

// Minted is a key just created or rotated with its secret, which is shown
// this once and never stored.
type Minted struct {
	Key    ragqueue.Key
	Secret string
}

// List returns every stored key (never nil).
func (s *Service) List(ctx context.Context) ([]ragqueue.Key, error) {
	ks, err := s.keys.ListKeys(ctx)
	if err != nil {
		return nil, err
	}
	if ks == nil {
		ks = []ragqueue.Key{}
	}
	return ks, nil
}
