package keys_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs/keys"
)

// memStore keeps keys and the audit log in memory.
type memStore struct {
	mu       sync.Mutex
	keys     []ragqueue.Key
	audit    []ragqueue.AuditEntry
	auditErr error
}

func (m *memStore) CreateKey(_ context.Context, k ragqueue.Key) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.keys = append(m.keys, k)
	return nil
}

func (m *memStore) KeyByHash(_ context.Context, hash []byte) (ragqueue.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range m.keys {
		if bytes.Equal(k.Hash, hash) {
			return k, nil
		}
	}
	return ragqueue.Key{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "key not found")
}

func (m *memStore) ListKeys(context.Context) ([]ragqueue.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]ragqueue.Key(nil), m.keys...), nil
}

func (m *memStore) DeleteKey(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range m.keys {
		if k.ID == id {
			m.keys = append(m.keys[:i], m.keys[i+1:]...)
			return nil
		}
	}
	return ragqueue.Errorf(ragqueue.ENOTFOUND, "key %s not found", id)
}

func (m *memStore) CountKeys(context.Context) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys), nil
}

func (m *memStore) RotateKey(_ context.Context, id string, hash []byte, prefix string) (ragqueue.Key, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, k := range m.keys {
		if k.ID == id {
			k.Hash, k.Prefix = hash, prefix
			m.keys[i] = k
			return k, nil
		}
	}
	return ragqueue.Key{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "key %s not found", id)
}

func (m *memStore) AppendAudit(_ context.Context, e ragqueue.AuditEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.auditErr != nil {
		return m.auditErr
	}
	m.audit = append(m.audit, e)
	return nil
}

func (m *memStore) ListAudit(_ context.Context, _ string, limit int) ([]ragqueue.AuditEntry, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.audit[:min(limit, len(m.audit))], "", nil
}

func setup(t *testing.T) (*keys.Service, *memStore) {
	t.Helper()
	store := &memStore{}
	return keys.New(keys.Config{Keys: store, Audit: store}), store
}

// TestSecretFormat: "rq_" and 32 random bytes in URL-safe base64; the
// record keeps the SHA-256 and the first ten characters only.
func TestSecretFormat(t *testing.T) {
	t.Parallel()
	s, store := setup(t)
	admin := keys.Actor{Key: ragqueue.Key{ID: "op", Tenant: keys.DefaultTenant, Role: ragqueue.RoleAdmin}}
	m, err := s.Create(context.Background(), admin, "acme", ragqueue.RoleWriter)
	require.NoError(t, err)
	raw, ok := strings.CutPrefix(m.Secret, "rq_")
	require.True(t, ok, m.Secret)
	b, err := base64.RawURLEncoding.DecodeString(raw)
	require.NoError(t, err)
	require.Len(t, b, 32)
	sum := sha256.Sum256([]byte(m.Secret))
	require.Equal(t, sum[:], m.Key.Hash)
	require.Equal(t, m.Secret[:10], m.Key.Prefix)
	require.Equal(t, "acme", m.Key.Tenant)
	require.Equal(t, ragqueue.RoleWriter, m.Key.Role)
	require.NotEmpty(t, m.Key.ID)

	other, err := s.Create(context.Background(), admin, "acme", ragqueue.RoleWriter)
	require.NoError(t, err)
	require.NotEqual(t, m.Secret, other.Secret)
	require.Len(t, store.keys, 2)
}

// TestBootstrapOnce: a first start without RAGQ_ADMIN_KEY shows one
// generated key; later starts make none. A configured key is registered
// once.
func TestBootstrapOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, store := setup(t)
	var out bytes.Buffer
	require.NoError(t, s.Bootstrap(ctx, "", &out))
	require.Len(t, store.keys, 1)
	require.Contains(t, out.String(), "rq_")
	secret := strings.TrimSpace(out.String()[strings.LastIndex(out.String(), ":")+1:])
	k, err := s.Authenticate(ctx, secret)
	require.NoError(t, err)
	require.Equal(t, keys.DefaultTenant, k.Tenant)
	require.Equal(t, ragqueue.RoleAdmin, k.Role)
	require.NoError(t, keys.CheckOperator(k))

	out.Reset()
	require.NoError(t, s.Bootstrap(ctx, "", &out))
	require.Empty(t, out.String())
	require.Len(t, store.keys, 1)

	for range 2 {
		require.NoError(t, s.Bootstrap(ctx, "rq_configured", &out))
	}
	require.Empty(t, out.String())
	require.Len(t, store.keys, 2)
	k, err = s.Authenticate(ctx, "rq_configured")
	require.NoError(t, err)
	require.Equal(t, ragqueue.RoleAdmin, k.Role)
}

// TestAuthenticate: an unknown secret is EUNAUTH; a hash of a revoked key
// is ENOTFOUND.
func TestAuthenticate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := setup(t)
	_, err := s.Authenticate(ctx, "rq_nope")
	require.Equal(t, ragqueue.EUNAUTH, ragqueue.ErrorCode(err))
	m, err := s.Create(ctx, keys.Actor{}, "acme", ragqueue.RoleReader)
	require.NoError(t, err)
	k, err := s.AuthenticateHash(ctx, m.Key.Hash)
	require.NoError(t, err)
	require.Equal(t, m.Key.ID, k.ID)
	require.NoError(t, s.Revoke(ctx, keys.Actor{}, m.Key.ID))
	_, err = s.AuthenticateHash(ctx, m.Key.Hash)
	require.True(t, ragqueue.IsNotFound(err), "%v", err)
}

// TestAdminActions are checked, done and audited.
func TestAdminActions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, store := setup(t)
	op := keys.Actor{Key: ragqueue.Key{ID: "op", Tenant: keys.DefaultTenant, Role: ragqueue.RoleAdmin}, RemoteAddr: "10.0.0.1", RequestID: "req-1"}

	_, err := s.Create(ctx, op, "no spaces", ragqueue.RoleReader)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	_, err = s.Create(ctx, op, "acme", "owner")
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.Empty(t, store.keys)

	m, err := s.Create(ctx, op, "acme", ragqueue.RoleReader)
	require.NoError(t, err)
	rotated, err := s.Rotate(ctx, op, m.Key.ID)
	require.NoError(t, err)
	require.Equal(t, m.Key.ID, rotated.Key.ID)
	require.NotEqual(t, m.Secret, rotated.Secret)
	_, err = s.Authenticate(ctx, m.Secret)
	require.Equal(t, ragqueue.EUNAUTH, ragqueue.ErrorCode(err), "the old secret stops working")
	_, err = s.Authenticate(ctx, rotated.Secret)
	require.NoError(t, err)

	// An operator cannot revoke the key they are using.
	self := keys.Actor{Key: rotated.Key}
	require.Equal(t, ragqueue.ECONFLICT, ragqueue.ErrorCode(s.Revoke(ctx, self, rotated.Key.ID)))
	require.NoError(t, s.Revoke(ctx, op, rotated.Key.ID))
	ks, err := s.List(ctx)
	require.NoError(t, err)
	require.NotNil(t, ks)
	require.Empty(t, ks)

	entries, _, err := s.AuditLog(ctx, "", keys.DefaultAuditPage)
	require.NoError(t, err)
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action+" "+e.Target+" "+e.Detail)
		require.Equal(t, "op", e.ActorKeyID)
		require.Equal(t, keys.DefaultTenant, e.ActorTenant)
		require.Equal(t, "10.0.0.1", e.RemoteAddr)
		require.Equal(t, "req-1", e.RequestID)
	}
	id := m.Key.ID
	require.Equal(t, []string{
		"key.create " + id + " tenant=acme role=reader",
		"key.rotate " + id + " tenant=acme role=reader",
		"key.revoke " + id + " ",
	}, actions)

	// The action has happened: a failed audit write does not undo it.
	store.auditErr = errors.New("disk full")
	_, err = s.Create(ctx, op, "acme", ragqueue.RoleReader)
	require.NoError(t, err)
}

// TestCheckOperator: operating the platform takes an admin key of the
// default tenant.
func TestCheckOperator(t *testing.T) {
	t.Parallel()
	require.NoError(t, keys.CheckOperator(ragqueue.Key{Tenant: keys.DefaultTenant, Role: ragqueue.RoleAdmin}))
	for _, k := range []ragqueue.Key{
		{Tenant: keys.DefaultTenant, Role: ragqueue.RoleWriter},
		{Tenant: "acme", Role: ragqueue.RoleAdmin},
	} {
		require.Equal(t, ragqueue.EFORBIDDEN, ragqueue.ErrorCode(keys.CheckOperator(k)), "%+v", k)
	}
}
