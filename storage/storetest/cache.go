package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func cacheTests() []test {
	return []test{
		{"RoundTrip", testCacheRoundTrip},
		{"ReplaceSameKey", testCacheReplace},
		{"TTL", testCacheNotBefore},
		{"Vectors", testCacheVectors},
		{"Invalidate", testCacheInvalidate},
		{"ChangedSinceRetrieval", testCacheChangedSince},
		{"MaxEntries", testCacheMaxEntries},
		{"TenantScoped", testCacheTenants},
		{"Invalid", testCacheInvalid},
	}
}

func cacheEntry(tenant, key string, docs ...string) ragqueue.CacheEntry {
	return ragqueue.CacheEntry{
		Tenant: tenant, Space: "hash-256", Key: key, Question: key + "?",
		Vector: []float32{0.6, 0.8, -0.25}, Result: json.RawMessage(`{"answer":"cached ` + key + `"}`),
		DocumentIDs: docs,
	}
}

// longAgo is a retrieval start before anything the tests change.
var longAgo = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func put(t *testing.T, s Store, e ragqueue.CacheEntry, maxEntries int) {
	t.Helper()
	stored, err := s.PutCacheEntry(context.Background(), e, longAgo, maxEntries)
	require.NoError(t, err)
	require.True(t, stored)
}

func testCacheRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	_, err := s.CacheEntryByKey(ctx, "acme", "hash-256", "warranty", longAgo)
	requireCode(t, ragqueue.ENOTFOUND, err)
	e := cacheEntry("acme", "warranty", "d2", "d1", "d2")
	e.ID = "e1"
	put(t, s, e, 0)
	got, err := s.CacheEntryByKey(ctx, "acme", "hash-256", "warranty", longAgo)
	require.NoError(t, err)
	require.Equal(t, "e1", got.ID)
	require.Equal(t, "acme", got.Tenant)
	require.Equal(t, "hash-256", got.Space)
	require.Equal(t, "warranty?", got.Question)
	require.Equal(t, e.Vector, got.Vector)
	require.JSONEq(t, string(e.Result), string(got.Result))
	require.Equal(t, []string{"d1", "d2"}, got.DocumentIDs)
	requireRecent(t, got.CreatedAt)
	byID, err := s.GetCacheEntry(ctx, "acme", "e1")
	require.NoError(t, err)
	require.Equal(t, got, byID)
	_, err = s.CacheEntryByKey(ctx, "acme", "other-space", "warranty", longAgo)
	requireCode(t, ragqueue.ENOTFOUND, err)
	_, err = s.GetCacheEntry(ctx, "acme", "nope")
	requireCode(t, ragqueue.ENOTFOUND, err)
}

func testCacheReplace(t *testing.T, s Store) {
	ctx := context.Background()
	put(t, s, cacheEntry("acme", "k", "d1"), 0)
	newer := cacheEntry("acme", "k", "d2")
	newer.Result = json.RawMessage(`{"answer":"newer"}`)
	put(t, s, newer, 0)
	got, err := s.CacheEntryByKey(ctx, "acme", "hash-256", "k", longAgo)
	require.NoError(t, err)
	require.JSONEq(t, `{"answer":"newer"}`, string(got.Result))
	require.Equal(t, []string{"d2"}, got.DocumentIDs)
	vecs, err := s.CacheVectors(ctx, "acme", "hash-256", longAgo, 10)
	require.NoError(t, err)
	require.Len(t, vecs, 1)
}

func testCacheNotBefore(t *testing.T, s Store) {
	ctx := context.Background()
	old := cacheEntry("acme", "old", "d1")
	old.CreatedAt = at(0)
	put(t, s, old, 0)
	got, err := s.CacheEntryByKey(ctx, "acme", "hash-256", "old", at(0))
	require.NoError(t, err)
	requireTime(t, at(0), got.CreatedAt)
	_, err = s.CacheEntryByKey(ctx, "acme", "hash-256", "old", at(1))
	requireCode(t, ragqueue.ENOTFOUND, err)
	vecs, err := s.CacheVectors(ctx, "acme", "hash-256", at(1), 10)
	require.NoError(t, err)
	require.Empty(t, vecs)
}

func testCacheVectors(t *testing.T, s Store) {
	ctx := context.Background()
	for i := range 3 {
		e := cacheEntry("acme", fmt.Sprintf("k%d", i), "d1")
		e.ID = fmt.Sprintf("e%d", i)
		e.CreatedAt = at(i)
		e.Vector = []float32{float32(i), 1}
		put(t, s, e, 0)
	}
	noVec := cacheEntry("acme", "novec")
	noVec.Vector = nil
	put(t, s, noVec, 0)
	vecs, err := s.CacheVectors(ctx, "acme", "hash-256", longAgo, 2)
	require.NoError(t, err)
	require.Len(t, vecs, 2)
	require.Equal(t, "e2", vecs[0].ID, "newest first")
	require.Equal(t, []float32{2, 1}, vecs[0].Vector)
	require.Equal(t, "e1", vecs[1].ID)
	empty, err := s.CacheVectors(ctx, "acme", "other-space", longAgo, 10)
	require.NoError(t, err)
	require.NotNil(t, empty)
	require.Empty(t, empty)
}

func testCacheInvalidate(t *testing.T, s Store) {
	ctx := context.Background()
	put(t, s, cacheEntry("acme", "cites-d1", "d1", "d2"), 0)
	put(t, s, cacheEntry("acme", "cites-d2", "d2"), 0)
	put(t, s, cacheEntry("globex", "cites-d1", "d1"), 0)
	require.NoError(t, s.InvalidateDocumentCache(ctx, "acme", "d1"))
	_, err := s.CacheEntryByKey(ctx, "acme", "hash-256", "cites-d1", longAgo)
	requireCode(t, ragqueue.ENOTFOUND, err)
	_, err = s.CacheEntryByKey(ctx, "acme", "hash-256", "cites-d2", longAgo)
	require.NoError(t, err, "an entry not citing the document stays")
	_, err = s.CacheEntryByKey(ctx, "globex", "hash-256", "cites-d1", longAgo)
	require.NoError(t, err, "another tenant's document of the same ID is another document")
	require.NoError(t, s.InvalidateDocumentCache(ctx, "acme", "never-cited"))
}

func testCacheChangedSince(t *testing.T, s Store) {
	ctx := context.Background()
	before := time.Now().Add(-time.Minute)
	require.NoError(t, s.InvalidateDocumentCache(ctx, "acme", "d1"))
	stored, err := s.PutCacheEntry(ctx, cacheEntry("acme", "stale", "d1"), before, 0)
	require.NoError(t, err)
	require.False(t, stored, "retrieved before the document changed")
	stored, err = s.PutCacheEntry(ctx, cacheEntry("acme", "stale among others", "d0", "d1", "d2"), before, 0)
	require.NoError(t, err)
	require.False(t, stored, "one of the cited documents changed")
	_, err = s.CacheEntryByKey(ctx, "acme", "hash-256", "stale", longAgo)
	requireCode(t, ragqueue.ENOTFOUND, err)
	stored, err = s.PutCacheEntry(ctx, cacheEntry("acme", "fresh", "d1"), time.Now().Add(time.Minute), 0)
	require.NoError(t, err)
	require.True(t, stored, "retrieved after the change")
	stored, err = s.PutCacheEntry(ctx, cacheEntry("globex", "other", "d1"), before, 0)
	require.NoError(t, err)
	require.True(t, stored, "acme's change is not globex's")
}

func testCacheMaxEntries(t *testing.T, s Store) {
	ctx := context.Background()
	for i := range 5 {
		e := cacheEntry("acme", fmt.Sprintf("k%d", i), "d1")
		e.CreatedAt = at(i)
		put(t, s, e, 3)
	}
	put(t, s, cacheEntry("globex", "g", "d1"), 3)
	vecs, err := s.CacheVectors(ctx, "acme", "hash-256", longAgo, 100)
	require.NoError(t, err)
	require.Len(t, vecs, 3)
	_, err = s.CacheEntryByKey(ctx, "acme", "hash-256", "k1", longAgo)
	requireCode(t, ragqueue.ENOTFOUND, err)
	_, err = s.CacheEntryByKey(ctx, "acme", "hash-256", "k4", longAgo)
	require.NoError(t, err)
	_, err = s.CacheEntryByKey(ctx, "globex", "hash-256", "g", longAgo)
	require.NoError(t, err)
}

func testCacheTenants(t *testing.T, s Store) {
	ctx := context.Background()
	e := cacheEntry("acme", "secret plans", "d1")
	e.ID = "acme-entry"
	put(t, s, e, 0)
	_, err := s.CacheEntryByKey(ctx, "globex", "hash-256", "secret plans", longAgo)
	requireCode(t, ragqueue.ENOTFOUND, err)
	_, err = s.GetCacheEntry(ctx, "globex", "acme-entry")
	requireCode(t, ragqueue.ENOTFOUND, err)
	vecs, err := s.CacheVectors(ctx, "globex", "hash-256", longAgo, 10)
	require.NoError(t, err)
	require.Empty(t, vecs)
}

func testCacheInvalid(t *testing.T, s Store) {
	ctx := context.Background()
	for _, e := range []ragqueue.CacheEntry{
		cacheEntry("", "k"),
		{Tenant: "acme", Key: "k", Result: json.RawMessage(`{}`)},
		{Tenant: "acme", Space: "s", Result: json.RawMessage(`{}`)},
		{Tenant: "acme", Space: "s", Key: "k"},
	} {
		_, err := s.PutCacheEntry(ctx, e, longAgo, 0)
		requireCode(t, ragqueue.EINVALID, err)
	}
}
