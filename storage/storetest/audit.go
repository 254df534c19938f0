package storetest

import (
	"context"
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

// AdminStore is what a metadata store offers for administration beyond
// Store: the audit log and key rotation.
type AdminStore interface {
	// AppendAudit adds an entry; an empty ID and zero At are filled, a
	// duplicate ID is ECONFLICT, an empty Action EINVALID.
	AppendAudit(ctx context.Context, e ragqueue.AuditEntry) error
	// ListAudit pages through the log newest first, like ListDocuments.
	ListAudit(ctx context.Context, cursor string, limit int) ([]ragqueue.AuditEntry, string, error)
	// RotateKey replaces a key's hash and prefix, keeping everything else;
	// ENOTFOUND if none, ECONFLICT if the hash is another key's.
	RotateKey(ctx context.Context, id string, hash []byte, prefix string) (ragqueue.Key, error)
}

func auditTests() []test {
	return []test{
		{"AppendAndPage", testAuditAppendAndPage},
		{"Invalid", testAuditInvalid},
		{"RotateKey", testRotateKey},
	}
}

func adminStore(t *testing.T, s Store) AdminStore {
	t.Helper()
	a, ok := s.(AdminStore)
	require.True(t, ok, "%T does not implement storetest.AdminStore", s)
	return a
}

func testAuditAppendAndPage(t *testing.T, s Store) {
	ctx := context.Background()
	a := adminStore(t, s)
	list, next, err := a.ListAudit(ctx, "", 0)
	require.NoError(t, err)
	require.NotNil(t, list)
	require.Empty(t, list)
	require.Empty(t, next)

	e1 := ragqueue.AuditEntry{ID: "a1", At: at(10), ActorKeyID: "k1", ActorTenant: "default", Action: "key.create",
		Target: "k2", Detail: "tenant=acme role=reader", RemoteAddr: "127.0.0.1", RequestID: "r1"}
	e2 := ragqueue.AuditEntry{ID: "a2", At: at(20), ActorKeyID: "k1", ActorTenant: "default", Action: "key.rotate", Target: "k2"}
	e3 := ragqueue.AuditEntry{ID: "a3", At: at(20), ActorKeyID: "k1", ActorTenant: "default", Action: "key.revoke", Target: "k2"}
	for _, e := range []ragqueue.AuditEntry{e1, e3, e2} {
		require.NoError(t, a.AppendAudit(ctx, e))
	}

	// Newest first; equal times by ID, descending.
	list, next, err = a.ListAudit(ctx, "", 2)
	require.NoError(t, err)
	require.Equal(t, []ragqueue.AuditEntry{e3, e2}, list)
	require.NotEmpty(t, next)
	requireTime(t, e3.At, list[0].At)
	list, next, err = a.ListAudit(ctx, next, 2)
	require.NoError(t, err)
	require.Equal(t, []ragqueue.AuditEntry{e1}, list)
	require.Empty(t, next)

	// Defaults are filled by the store.
	require.NoError(t, a.AppendAudit(ctx, ragqueue.AuditEntry{Action: "monitoring.login"}))
	list, _, err = a.ListAudit(ctx, "", 1)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "monitoring.login", list[0].Action)
	require.NotEmpty(t, list[0].ID)
	requireRecent(t, list[0].At)
}

func testAuditInvalid(t *testing.T, s Store) {
	ctx := context.Background()
	a := adminStore(t, s)
	requireCode(t, ragqueue.EINVALID, a.AppendAudit(ctx, ragqueue.AuditEntry{ID: "a1"}))
	require.NoError(t, a.AppendAudit(ctx, ragqueue.AuditEntry{ID: "a1", Action: "key.create"}))
	requireCode(t, ragqueue.ECONFLICT, a.AppendAudit(ctx, ragqueue.AuditEntry{ID: "a1", Action: "key.create"}))
	_, _, err := a.ListAudit(ctx, "not-a-cursor", 10)
	requireCode(t, ragqueue.EINVALID, err)
}

func testRotateKey(t *testing.T, s Store) {
	ctx := context.Background()
	a := adminStore(t, s)
	k1 := newKey("k1", "acme", "writer", "rq_secret_one", 10)
	k2 := newKey("k2", "acme", "reader", "rq_secret_two", 20)
	require.NoError(t, s.CreateKey(ctx, k1))
	require.NoError(t, s.CreateKey(ctx, k2))

	newHash := sha256.Sum256([]byte("rq_secret_new"))
	got, err := a.RotateKey(ctx, "k1", newHash[:], "rq_sec")
	require.NoError(t, err)
	want := k1
	want.Hash, want.Prefix = newHash[:], "rq_sec"
	require.Equal(t, want, got)

	_, err = s.KeyByHash(ctx, k1.Hash)
	requireCode(t, ragqueue.ENOTFOUND, err)
	got, err = s.KeyByHash(ctx, newHash[:])
	require.NoError(t, err)
	require.Equal(t, want, got)

	_, err = a.RotateKey(ctx, "nope", newHash[:], "x")
	requireCode(t, ragqueue.ENOTFOUND, err)
	_, err = a.RotateKey(ctx, "k1", k2.Hash, "x")
	requireCode(t, ragqueue.ECONFLICT, err)
	_, err = a.RotateKey(ctx, "k1", nil, "x")
	requireCode(t, ragqueue.EINVALID, err)
	n, err := s.CountKeys(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
}
