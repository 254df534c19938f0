package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

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
	tx, err := s.w.Begin(ctx)
	if err != nil {
		return false, s.errorf("put cache entry: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.lockTenantCache(ctx, tx, e.Tenant); err != nil {
		return false, s.errorf("put cache entry: %w", err)
	}
	if len(docs) > 0 {
		// One query for all the cited documents.
		args := []any{e.Tenant, s.d.time(since)}
		for _, d := range docs {
			args = append(args, d)
		}
		var changed bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM cache_document_changes
			WHERE tenant = ? AND changed_at >= ? AND document_id IN (`+placeholders(len(docs))+`))`,
			args...).Scan(&changed); err != nil {
			return false, s.errorf("put cache entry: %w", err)
		}
		if changed {
			return false, nil
		}
	}
	if err := s.insertCacheEntry(ctx, tx, e, docs); err != nil {
		return false, s.errorf("put cache entry: %w", err)
	}
	if maxEntries > 0 {
		if _, err := tx.Exec(ctx, `DELETE FROM cache_entries WHERE tenant = ? AND id NOT IN
			(SELECT id FROM cache_entries WHERE tenant = ? ORDER BY created_at DESC, id DESC LIMIT ?)`,
			e.Tenant, e.Tenant, maxEntries); err != nil {
			return false, s.errorf("put cache entry: evict: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, s.errorf("put cache entry: %w", err)
	}
	return true, nil
}

// insertCacheEntry stores e, replacing the entry of its key, and the
// documents it cites.
func (s *Store) insertCacheEntry(ctx context.Context, tx *Tx, e ragqueue.CacheEntry, docs []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM cache_entries WHERE tenant = ? AND space = ? AND key = ?`,
		e.Tenant, e.Space, e.Key); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO cache_entries (`+cacheColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Tenant, e.Space, e.Key, e.Question, storage.EncodeVector(e.Vector), string(e.Result), s.d.time(e.CreatedAt)); err != nil {
		return err
	}
	for _, d := range docs {
		if _, err := tx.Exec(ctx, `INSERT INTO cache_documents (entry_id, tenant, document_id) VALUES (?, ?, ?)`,
			e.ID, e.Tenant, d); err != nil {
			return err
		}
	}
	return nil
}

// placeholders is n comma-separated ?s, for an IN list.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// CacheEntryByKey implements ragqueue.CacheStore.
func (s *Store) CacheEntryByKey(ctx context.Context, tenant, space, key string, notBefore time.Time) (ragqueue.CacheEntry, error) {
	e, err := s.cacheEntry(ctx, `SELECT `+cacheColumns+` FROM cache_entries
		WHERE tenant = ? AND space = ? AND key = ? AND created_at >= ?`, tenant, space, key, s.d.time(notBefore))
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.CacheEntry{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "no cached answer")
	} else if err != nil {
		return ragqueue.CacheEntry{}, s.errorf("cache entry by key: %w", err)
	}
	return e, nil
}

// GetCacheEntry implements ragqueue.CacheStore.
func (s *Store) GetCacheEntry(ctx context.Context, tenant, id string) (ragqueue.CacheEntry, error) {
	e, err := s.cacheEntry(ctx, `SELECT `+cacheColumns+` FROM cache_entries WHERE tenant = ? AND id = ?`, tenant, id)
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.CacheEntry{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "cache entry %s not found", id)
	} else if err != nil {
		return ragqueue.CacheEntry{}, s.errorf("get cache entry %s: %w", id, err)
	}
	return e, nil
}

// cacheEntry reads one entry with the documents it cites.
func (s *Store) cacheEntry(ctx context.Context, query string, args ...any) (ragqueue.CacheEntry, error) {
	var (
		e           ragqueue.CacheEntry
		vec, result []byte
	)
	if err := s.r.QueryRow(ctx, query, args...).Scan(&e.ID, &e.Tenant, &e.Space, &e.Key, &e.Question, &vec, &result,
		timeCol{&e.CreatedAt}); err != nil {
		return ragqueue.CacheEntry{}, err
	}
	v, err := storage.DecodeVector(vec)
	if err != nil {
		return ragqueue.CacheEntry{}, err
	}
	e.Vector, e.Result = v, result
	e.DocumentIDs, err = list(ctx, s.r, scanString,
		`SELECT document_id FROM cache_documents WHERE entry_id = ? ORDER BY document_id`, e.ID)
	return e, err
}

// scanString reads a row of one text column.
func scanString(sc scanner) (string, error) {
	var v string
	err := sc.Scan(&v)
	return v, err
}

// CacheVectors implements ragqueue.CacheStore.
func (s *Store) CacheVectors(ctx context.Context, tenant, space string, notBefore time.Time, limit int) ([]ragqueue.CacheEntry, error) {
	scan := func(sc scanner) (ragqueue.CacheEntry, error) {
		var (
			e   = ragqueue.CacheEntry{Tenant: tenant, Space: space}
			vec []byte
			err error
		)
		if err = sc.Scan(&e.ID, &vec); err == nil {
			e.Vector, err = storage.DecodeVector(vec)
		}
		return e, err
	}
	out, err := list(ctx, s.r, scan, `SELECT id, vector FROM cache_entries
		WHERE tenant = ? AND space = ? AND created_at >= ? AND vector IS NOT NULL
		ORDER BY created_at DESC, id DESC LIMIT ?`, tenant, space, s.d.time(notBefore), limit)
	if err != nil {
		return nil, s.errorf("cache vectors: %w", err)
	}
	return out, nil
}

// InvalidateDocumentCache implements ragqueue.CacheStore.
func (s *Store) InvalidateDocumentCache(ctx context.Context, tenant, documentID string) error {
	tx, err := s.w.Begin(ctx)
	if err != nil {
		return s.errorf("invalidate cache of document %s: %w", documentID, err)
	}
	defer func() { _ = tx.Rollback() }()
	if err := s.lockTenantCache(ctx, tx, tenant); err != nil {
		return s.errorf("invalidate cache of document %s: %w", documentID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO cache_document_changes (tenant, document_id, changed_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant, document_id) DO UPDATE SET changed_at = excluded.changed_at`,
		tenant, documentID, s.d.time(now())); err != nil {
		return s.errorf("invalidate cache of document %s: %w", documentID, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM cache_entries WHERE id IN
		(SELECT entry_id FROM cache_documents WHERE tenant = ? AND document_id = ?)`, tenant, documentID); err != nil {
		return s.errorf("invalidate cache of document %s: %w", documentID, err)
	}
	if err := tx.Commit(); err != nil {
		return s.errorf("invalidate cache of document %s: %w", documentID, err)
	}
	return nil
}

// lockTenantCache serialises a tenant's cache puts and invalidations until
// the transaction ends, so that an invalidation racing a put either is seen
// by the put or removes the entry it stored. Where the dialect has no
// LockCache, the database's single writer serialises them already.
func (s *Store) lockTenantCache(ctx context.Context, tx *Tx, tenant string) error {
	if s.d.LockCache == "" {
		return nil
	}
	_, err := tx.Exec(ctx, s.d.LockCache, tenant)
	return err
}
