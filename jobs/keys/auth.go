package keys

import (
	"context"

	"github.com/ragqueue/ragqueue"
)

// Authenticate returns the key whose secret this is; EUNAUTH when there is
// none (unknown or revoked).
func (s *Service) Authenticate(ctx context.Context, secret string) (ragqueue.Key, error) {
	k, err := s.keys.KeyByHash(ctx, hashOf(secret))
	if ragqueue.IsNotFound(err) {
		return ragqueue.Key{}, ragqueue.Errorf(ragqueue.EUNAUTH, "unknown or revoked API key")
	}
	return k, err
}

// AuthenticateHash returns the key whose secret has this SHA-256, as a
// signed session carries it; ENOTFOUND when there is none (the key was
// revoked or rotated since).
func (s *Service) AuthenticateHash(ctx context.Context, hash []byte) (ragqueue.Key, error) {
	return s.keys.KeyByHash(ctx, hash)
}

// CheckOperator says why k may not operate the platform (keys of every
// tenant, the audit log, re-indexing, metrics, the Asynq UI), or nil: that
// takes an admin key of DefaultTenant, the operators' tenant. An admin of
// another tenant has a writer's rights in its own tenant only, so that no
// tenant can reach another's keys, jobs or questions.
func CheckOperator(k ragqueue.Key) error {
	if !ragqueue.RoleAllows(k.Role, ragqueue.RoleAdmin) {
		return ragqueue.Errorf(ragqueue.EFORBIDDEN, "this needs an admin key; yours is a %s key", k.Role)
	}
	if k.Tenant != DefaultTenant {
		return ragqueue.Errorf(ragqueue.EFORBIDDEN, "this needs an admin key of the %q tenant (the operators'); yours is an admin key of %q", DefaultTenant, k.Tenant)
	}
	return nil
}
