package storetest

import (
	"context"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func keyTests() []test {
	return []test{
		{"RoundTrip", testKeysRoundTrip},
		{"Conflicts", testKeysConflicts},
		{"Invalid", testKeysInvalid},
		{"Ping", testPing},
	}
}

func newKey(id, tenant, role, secret string, createdAt int) ragqueue.Key {
	h := sha256.Sum256([]byte(secret))
	return ragqueue.Key{ID: id, Tenant: tenant, Role: role, Hash: h[:], Prefix: secret[:6], CreatedAt: at(createdAt)}
}

func testKeysRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	n, err := s.CountKeys(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	list, err := s.ListKeys(ctx)
	require.NoError(t, err)
	require.NotNil(t, list)
	require.Empty(t, list)

	k1 := newKey("k1", "acme", "admin", "rq_secret_one", 20)
	k2 := newKey("k2", "globex", "reader", "rq_secret_two", 10)
	k3 := newKey("k3", "acme", "writer", "rq_secret_three", 30)
	for _, k := range []ragqueue.Key{k1, k2, k3} {
		require.NoError(t, s.CreateKey(ctx, k))
	}

	got, err := s.KeyByHash(ctx, k1.Hash)
	require.NoError(t, err)
	require.Equal(t, k1, got)

	list, err = s.ListKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, []ragqueue.Key{k2, k1, k3}, list)
	n, err = s.CountKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)

	require.NoError(t, s.DeleteKey(ctx, "k1"))
	_, err = s.KeyByHash(ctx, k1.Hash)
	requireCode(t, ragqueue.ENOTFOUND, err)
	requireCode(t, ragqueue.ENOTFOUND, s.DeleteKey(ctx, "k1"))
	n, err = s.CountKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	unknown := sha256.Sum256([]byte("nope"))
	_, err = s.KeyByHash(ctx, unknown[:])
	requireCode(t, ragqueue.ENOTFOUND, err)

	// A zero CreatedAt is set by the store.
	k4 := newKey("k4", "acme", "reader", "rq_secret_four", 0)
	k4.CreatedAt = time.Time{}
	require.NoError(t, s.CreateKey(ctx, k4))
	got, err = s.KeyByHash(ctx, k4.Hash)
	require.NoError(t, err)
	requireRecent(t, got.CreatedAt)
}

func testKeysConflicts(t *testing.T, s Store) {
	ctx := context.Background()
	k := newKey("k1", "acme", "admin", "rq_secret_one", 0)
	require.NoError(t, s.CreateKey(ctx, k))

	sameHash := newKey("k2", "globex", "admin", "rq_secret_one", 1)
	requireCode(t, ragqueue.ECONFLICT, s.CreateKey(ctx, sameHash))
	sameID := newKey("k1", "globex", "admin", "rq_secret_two", 1)
	requireCode(t, ragqueue.ECONFLICT, s.CreateKey(ctx, sameID))

	list, err := s.ListKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, []ragqueue.Key{k}, list)
}

func testKeysInvalid(t *testing.T, s Store) {
	ctx := context.Background()
	k := newKey("", "acme", "admin", "rq_secret_one", 0)
	requireCode(t, ragqueue.EINVALID, s.CreateKey(ctx, k))
	k = newKey("k1", "acme", "admin", "rq_secret_one", 0)
	k.Hash = nil
	requireCode(t, ragqueue.EINVALID, s.CreateKey(ctx, k))
}

func testPing(t *testing.T, s Store) {
	require.NoError(t, s.Ping(context.Background()))
}
