package queries

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// memCacheStore is an in-memory answerCacheStore for the cache's own
// rules; the stores' side is storage/storetest's.
type memCacheStore struct {
	mu        sync.Mutex
	entries   []ragqueue.CacheEntry
	jobs      map[string]ragqueue.Job
	notBefore []time.Time // every notBefore asked with
	fail      error       // returned by every read when set
}

func (m *memCacheStore) PutCacheEntry(_ context.Context, e ragqueue.CacheEntry, _ time.Time, _ int) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e.ID = e.Key
	m.entries = append(m.entries, e)
	return true, nil
}

func (m *memCacheStore) CacheEntryByKey(_ context.Context, tenant, space, key string, notBefore time.Time) (ragqueue.CacheEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.notBefore = append(m.notBefore, notBefore)
	if m.fail != nil {
		return ragqueue.CacheEntry{}, m.fail
	}
	for _, e := range m.entries {
		if e.Tenant == tenant && e.Space == space && e.Key == key {
			return e, nil
		}
	}
	return ragqueue.CacheEntry{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "no cached answer")
}

func (m *memCacheStore) CacheVectors(_ context.Context, tenant, space string, _ time.Time, limit int) ([]ragqueue.CacheEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ragqueue.CacheEntry
	for _, e := range slices.Backward(m.entries) {
		if e.Tenant == tenant && e.Space == space && len(out) < limit {
			out = append(out, ragqueue.CacheEntry{ID: e.ID, Vector: e.Vector})
		}
	}
	return out, nil
}

func (m *memCacheStore) GetCacheEntry(_ context.Context, tenant, id string) (ragqueue.CacheEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.entries {
		if e.Tenant == tenant && e.ID == id {
			return e, nil
		}
	}
	return ragqueue.CacheEntry{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "gone")
}

func (m *memCacheStore) InvalidateDocumentCache(context.Context, string, string) error { return nil }

func (m *memCacheStore) CreateJob(_ context.Context, j ragqueue.Job) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.jobs[j.ID] = j
	return nil
}

func (m *memCacheStore) GetJob(context.Context, string, string) (ragqueue.Job, error) {
	return ragqueue.Job{}, nil
}
func (m *memCacheStore) UpdateJob(context.Context, string, string, ragqueue.JobUpdate) error {
	return nil
}
func (m *memCacheStore) UnfinishedJobs(context.Context, string, int) ([]ragqueue.Job, error) {
	return nil, nil
}

func TestAnswerCacheRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	emb := retrieval.NewHashEmbedder(64)
	live := retrieval.Target{Space: retrieval.Space{Name: emb.Name(), Dim: emb.Dim()}, Embedder: emb}
	store := &memCacheStore{jobs: map[string]ragqueue.Job{}}
	c := NewAnswerCache(store, CacheOptions{TTL: time.Hour, Similarity: 0.9}, nil)
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c.now = func() time.Time { return clock }

	answer := queryResult{Answer: "Forty pages a minute [1].", Citations: []ragqueue.Citation{{Index: 1, DocumentID: "d1"}},
		JobID: "first", Cache: CacheMiss, ConversationID: "c", StandaloneQuestion: "s"}
	vec, err := emb.Embed(ctx, []string{"How fast does the X100 printer print?"})
	require.NoError(t, err)
	c.put(ctx, "acme", live.Space.Name, "How fast does the X100 printer print?", vec[0], answer, clock)
	require.Len(t, store.entries, 1)
	require.Equal(t, "how fast does the x100 printer print", store.entries[0].Key)
	require.Equal(t, []string{"d1"}, store.entries[0].DocumentIDs)
	var stored map[string]any
	require.NoError(t, json.Unmarshal(store.entries[0].Result, &stored))
	require.Empty(t, stored["job_id"], "what belongs to one job is not cached")
	require.NotContains(t, stored, "cache")
	require.NotContains(t, stored, "conversation_id")

	c.put(ctx, "acme", live.Space.Name, "Anything?", vec[0], queryResult{Answer: retrieval.NoAnswerText}, clock)
	require.Len(t, store.entries, 1, "an answer citing nothing is not cached")

	tests := []struct {
		name, tenant, question, want string
	}{
		{"exact", "acme", "how fast does the X100 printer print", CacheExact},
		{"semantic", "acme", "The X100 printer: how fast does it print?", CacheSemantic},
		{"miss", "acme", "Who makes the Z9 scanner?", ""},
		{"other tenant", "globex", "How fast does the X100 printer print?", ""},
		{"empty key", "acme", "?!", ""},
	}
	for _, tt := range tests {
		job, ok, err := c.Answer(ctx, tt.tenant, live, tt.question)
		require.NoError(t, err, tt.name)
		require.Equal(t, tt.want != "", ok, tt.name)
		if !ok {
			continue
		}
		require.Equal(t, ragqueue.StateSucceeded, job.State)
		require.Equal(t, ragqueue.KindQuery, job.Type)
		require.Equal(t, job, store.jobs[job.ID], "%s: the hit is recorded as a job", tt.name)
		var res queryResult
		require.NoError(t, json.Unmarshal(job.Result, &res))
		require.Equal(t, tt.want, res.Cache, tt.name)
		require.Equal(t, job.ID, res.JobID)
		require.Equal(t, answer.Answer, res.Answer)
	}
	require.Equal(t, clock.Add(-time.Hour), store.notBefore[0], "entries older than the TTL are not served")

	store.fail = errors.New("database down")
	_, ok, err := c.Answer(ctx, "acme", live, "How fast does the X100 printer print?")
	require.NoError(t, err, "a broken cache is a miss, not a failed question")
	require.False(t, ok)
}

func TestCacheable(t *testing.T) {
	t.Parallel()
	require.True(t, Cacheable(true, nil))
	require.False(t, Cacheable(false, nil))
	require.False(t, Cacheable(true, []string{"https://example.com/"}))
}
