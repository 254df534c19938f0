package keys

import (
	"context"
	"regexp"

	"github.com/ragqueue/ragqueue"
)

var tenantPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// Create mints a key for any tenant with role, stores it and records
// key.create by the actor.
func (s *Service) Create(ctx context.Context, by Actor, tenant, role string) (Minted, error) {
	if !tenantPattern.MatchString(tenant) {
		return Minted{}, ragqueue.Errorf(ragqueue.EINVALID, "tenant must be 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit")
	}
	if !ragqueue.ValidRole(role) {
		return Minted{}, ragqueue.Errorf(ragqueue.EINVALID, "role must be one of admin, writer, reader")
	}
	secret, err := newSecret()
	if err != nil {
		return Minted{}, err
	}
	k := record(secret, tenant, role)
	if err := s.keys.CreateKey(ctx, k); err != nil {
		return Minted{}, err
	}
	s.Audit(ctx, by, "key.create", k.ID, "tenant="+k.Tenant+" role="+k.Role)
	return Minted{Key: k, Secret: secret}, nil
}

// Rotate gives key id a new secret, keeping its ID, tenant and role; the
// old secret stops working at once. It records key.rotate by the actor.
func (s *Service) Rotate(ctx context.Context, by Actor, id string) (Minted, error) {
	secret, err := newSecret()
	if err != nil {
		return Minted{}, err
	}
	fresh := record(secret, "", "")
	k, err := s.keys.RotateKey(ctx, id, fresh.Hash, fresh.Prefix)
	if err != nil {
		return Minted{}, err
	}
	s.Audit(ctx, by, "key.rotate", k.ID, "tenant="+k.Tenant+" role="+k.Role)
	return Minted{Key: k, Secret: secret}, nil
}

// Revoke deletes key id and records key.revoke by the actor. Revoking the
// actor's own key is refused (ECONFLICT), so that an operator cannot lock
// themselves out by accident.
func (s *Service) Revoke(ctx context.Context, by Actor, id string) error {
	if id == by.Key.ID {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "this is the key you are using; revoke it with another admin key")
	}
	if err := s.keys.DeleteKey(ctx, id); err != nil {
		return err
	}
	s.Audit(ctx, by, "key.revoke", id, "")
	return nil
}
