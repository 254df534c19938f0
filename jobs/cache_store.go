package jobs

import (
	"context"
	"encoding/json"
	"time"
)

// CacheEntry is one cached answer of the semantic answer cache. Entries are
// per tenant and per embedding space (Space: the name of the space Vector
// belongs to); Key is the normalised question (retrieval.NormalizeQuestion).
type CacheEntry struct {
	ID       string
	Tenant   string
	Space    string
	Key      string
	Question string
	// Vector is the question's embedding in Space, for semantic matches.
	Vector []float32
	// Result is the query job's result as it was first answered.
	Result json.RawMessage
	// DocumentIDs are the documents the answer cites: a change to any of
	// them removes the entry.
	DocumentIDs []string
	CreatedAt   time.Time
}

// CacheStore keeps the answer cache in the metadata database.
type CacheStore interface {
	// PutCacheEntry stores e (replacing an entry with the same tenant,
	// space and key) unless one of e.DocumentIDs changed (a version
	// completed, or a delete: InvalidateDocumentCache) at or after since,
	// the time the answer's retrieval started; then it stores nothing and
	// returns false. Beyond maxEntries entries for the tenant (> 0), the
	// oldest are removed. ID and CreatedAt are set when empty.
	PutCacheEntry(ctx context.Context, e CacheEntry, since time.Time, maxEntries int) (stored bool, err error)
	// CacheEntryByKey returns the tenant's entry of space with the key,
	// created at or after notBefore; ENOTFOUND when there is none.
	CacheEntryByKey(ctx context.Context, tenant, space, key string, notBefore time.Time) (CacheEntry, error)
	// CacheVectors lists the ID and Vector of the tenant's entries of space
	// created at or after notBefore, newest first, at most limit.
	CacheVectors(ctx context.Context, tenant, space string, notBefore time.Time, limit int) ([]CacheEntry, error)
	// GetCacheEntry returns one entry of the tenant; ENOTFOUND when gone.
	GetCacheEntry(ctx context.Context, tenant, id string) (CacheEntry, error)
	// InvalidateDocumentCache removes every entry of the tenant that cites
	// the document, and remembers the change so that an answer retrieved
	// before it is not cached after it.
	InvalidateDocumentCache(ctx context.Context, tenant, documentID string) error
}
