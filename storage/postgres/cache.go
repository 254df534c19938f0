package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const cacheColumns = `id, tenant, space, key, question, vector, result, created_at`

// PutCacheEntry implements ragqueue.CacheStore.
func (s *Store) PutCacheEntry(ctx context.Context, e ragqueue.CacheEntry, since time.Time, maxEntries int) (bool, error) {
	e, docs, err := storage.PrepareCacheEntry(e, now())
	if err != nil {
		return false, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: put cache entry: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := lockTenantCache(ctx, tx, e.Tenant); err != nil {
		return false, fmt.Errorf("postgres: put cache entry: %w", err)
	}
	if len(docs) > 0 {
		var changed bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cache_document_changes
			WHERE tenant = $1 AND document_id = ANY($2) AND changed_at >= $3)`, e.Tenant, docs, ts(since)).Scan(&changed); err != nil {
			return false, fmt.Errorf("postgres: put cache entry: %w", err)
		}
		if changed {
			return false, nil
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM cache_entries WHERE tenant = $1 AND space = $2 AND key = $3`,
		e.Tenant, e.Space, e.Key); err != nil {
		return false, fmt.Errorf("postgres: put cache entry: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO cache_entries (`+cacheColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		e.ID, e.Tenant, e.Space, e.Key, e.Question, storage.EncodeVector(e.Vector), string(e.Result), ts(e.CreatedAt)); err != nil {
		return false, fmt.Errorf("postgres: put cache entry: %w", err)
	}
	for _, d := range docs {
		if _, err := tx.Exec(ctx, `INSERT INTO cache_documents (entry_id, tenant, document_id) VALUES ($1, $2, $3)`,
			e.ID, e.Tenant, d); err != nil {
			return false, fmt.Errorf("postgres: put cache entry: %w", err)
		}
	}
	if maxEntries > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM cache_entries WHERE tenant = $1 AND id NOT IN
			(SELECT id FROM cache_entries WHERE tenant = $1 ORDER BY created_at DESC, id DESC LIMIT $2)`,
			e.Tenant, maxEntries); err != nil {
			return false, fmt.Errorf("postgres: put cache entry: evict: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return false, fmt.Errorf("postgres: put cache entry: %w", err)
	}
	return true, nil
}

// CacheEntryByKey implements ragqueue.CacheStore.
func (s *Store) CacheEntryByKey(ctx context.Context, tenant, space, key string, notBefore time.Time) (ragqueue.CacheEntry, error) {
	e, err := s.cacheEntry(ctx, `SELECT `+cacheColumns+` FROM cache_entries
		WHERE tenant = $1 AND space = $2 AND key = $3 AND created_at >= $4`, tenant, space, key, ts(notBefore))
	if isNoRows(err) {
		return ragqueue.CacheEntry{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "no cached answer")
	} else if err != nil {
		return ragqueue.CacheEntry{}, fmt.Errorf("postgres: cache entry by key: %w", err)
	}
	return e, nil
}

// GetCacheEntry implements ragqueue.CacheStore.
func (s *Store) GetCacheEntry(ctx context.Context, tenant, id string) (ragqueue.CacheEntry, error) {
	e, err := s.cacheEntry(ctx, `SELECT `+cacheColumns+` FROM cache_entries WHERE tenant = $1 AND id = $2`, tenant, id)
	if isNoRows(err) {
		return ragqueue.CacheEntry{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "cache entry %s not found", id)
	} else if err != nil {
		return ragqueue.CacheEntry{}, fmt.Errorf("postgres: get cache entry %s: %w", id, err)
	}
	return e, nil
}

// cacheEntry reads one entry with the documents it cites.
func (s *Store) cacheEntry(ctx context.Context, query string, args ...any) (ragqueue.CacheEntry, error) {
	var (
		e      ragqueue.CacheEntry
		vec    []byte
		result []byte
	)
	if err := s.pool.QueryRow(ctx, query, args...).Scan(&e.ID, &e.Tenant, &e.Space, &e.Key, &e.Question, &vec, &result, &e.CreatedAt); err != nil {
		return ragqueue.CacheEntry{}, err
	}
	v, err := storage.DecodeVector(vec)
	if err != nil {
		return ragqueue.CacheEntry{}, err
	}
	e.Vector, e.Result, e.CreatedAt = v, result, e.CreatedAt.UTC()
	rows, err := s.pool.Query(ctx, `SELECT document_id FROM cache_documents WHERE entry_id = $1 ORDER BY document_id`, e.ID)
	if err != nil {
		return ragqueue.CacheEntry{}, err
	}
	e.DocumentIDs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return ragqueue.CacheEntry{}, err
	}
	if e.DocumentIDs == nil {
		e.DocumentIDs = []string{}
	}
	return e, nil
}

// CacheVectors implements ragqueue.CacheStore.
func (s *Store) CacheVectors(ctx context.Context, tenant, space string, notBefore time.Time, limit int) ([]ragqueue.CacheEntry, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, vector FROM cache_entries
		WHERE tenant = $1 AND space = $2 AND created_at >= $3 AND vector IS NOT NULL
		ORDER BY created_at DESC, id DESC LIMIT $4`, tenant, space, ts(notBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: cache vectors: %w", err)
	}
	defer rows.Close()
	out := []ragqueue.CacheEntry{}
	for rows.Next() {
		var (
			e   = ragqueue.CacheEntry{Tenant: tenant, Space: space}
			vec []byte
		)
		if err := rows.Scan(&e.ID, &vec); err != nil {
			return nil, fmt.Errorf("postgres: cache vectors: %w", err)
		}
		if e.Vector, err = storage.DecodeVector(vec); err != nil {
			return nil, fmt.Errorf("postgres: cache vectors: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: cache vectors: %w", err)
	}
	return out, nil
}

// InvalidateDocumentCache implements ragqueue.CacheStore.
func (s *Store) InvalidateDocumentCache(ctx context.Context, tenant, documentID string) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: invalidate cache of document %s: %w", documentID, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	if err := lockTenantCache(ctx, tx, tenant); err != nil {
		return fmt.Errorf("postgres: invalidate cache of document %s: %w", documentID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO cache_document_changes (tenant, document_id, changed_at) VALUES ($1, $2, $3)
		ON CONFLICT (tenant, document_id) DO UPDATE SET changed_at = EXCLUDED.changed_at`,
		tenant, documentID, now()); err != nil {
		return fmt.Errorf("postgres: invalidate cache of document %s: %w", documentID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM cache_entries WHERE id IN
		(SELECT entry_id FROM cache_documents WHERE tenant = $1 AND document_id = $2)`, tenant, documentID); err != nil {
		return fmt.Errorf("postgres: invalidate cache of document %s: %w", documentID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: invalidate cache of document %s: %w", documentID, err)
	}
	return nil
}

// lockTenantCache serialises a tenant's cache puts and invalidations until
// the transaction ends, so that an invalidation racing a put either is seen
// by the put or removes the entry it stored.
func lockTenantCache(ctx context.Context, tx pgx.Tx, tenant string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('ragqueue-cache:' || $1, 0))`, tenant)
	return err
}
