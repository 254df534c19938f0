package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: put cache entry: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if len(docs) > 0 {
		// One query for all the cited documents, as the PostgreSQL store does.
		var sb strings.Builder
		sb.WriteString(`SELECT EXISTS (SELECT 1 FROM cache_document_changes WHERE tenant = ? AND changed_at >= ?`)
		args := appendIn(&sb, []any{e.Tenant, nanos(since)}, "document_id", docs)
		sb.WriteByte(')')
		var changed bool
		if err := tx.QueryRowContext(ctx, sb.String(), args...).Scan(&changed); err != nil {
			return false, fmt.Errorf("sqlite: put cache entry: %w", err)
		}
		if changed {
			return false, nil
		}
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM cache_entries WHERE tenant = ? AND space = ? AND key = ?`,
		e.Tenant, e.Space, e.Key); err != nil {
		return false, fmt.Errorf("sqlite: put cache entry: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO cache_entries (`+cacheColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, e.Tenant, e.Space, e.Key, e.Question, storage.EncodeVector(e.Vector), string(e.Result), nanos(e.CreatedAt)); err != nil {
		return false, fmt.Errorf("sqlite: put cache entry: %w", err)
	}
	for _, d := range docs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO cache_documents (entry_id, tenant, document_id) VALUES (?, ?, ?)`,
			e.ID, e.Tenant, d); err != nil {
			return false, fmt.Errorf("sqlite: put cache entry: %w", err)
		}
	}
	if maxEntries > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM cache_entries WHERE tenant = ? AND id NOT IN
			(SELECT id FROM cache_entries WHERE tenant = ? ORDER BY created_at DESC, id DESC LIMIT ?)`,
			e.Tenant, e.Tenant, maxEntries); err != nil {
			return false, fmt.Errorf("sqlite: put cache entry: evict: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: put cache entry: %w", err)
	}
	return true, nil
}

// CacheEntryByKey implements ragqueue.CacheStore.
func (s *Store) CacheEntryByKey(ctx context.Context, tenant, space, key string, notBefore time.Time) (ragqueue.CacheEntry, error) {
	e, err := s.cacheEntry(ctx, `SELECT `+cacheColumns+` FROM cache_entries
		WHERE tenant = ? AND space = ? AND key = ? AND created_at >= ?`, tenant, space, key, nanos(notBefore))
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.CacheEntry{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "no cached answer")
	} else if err != nil {
		return ragqueue.CacheEntry{}, fmt.Errorf("sqlite: cache entry by key: %w", err)
	}
	return e, nil
}

// GetCacheEntry implements ragqueue.CacheStore.
func (s *Store) GetCacheEntry(ctx context.Context, tenant, id string) (ragqueue.CacheEntry, error) {
	e, err := s.cacheEntry(ctx, `SELECT `+cacheColumns+` FROM cache_entries WHERE tenant = ? AND id = ?`, tenant, id)
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.CacheEntry{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "cache entry %s not found", id)
	} else if err != nil {
		return ragqueue.CacheEntry{}, fmt.Errorf("sqlite: get cache entry %s: %w", id, err)
	}
	return e, nil
}

// cacheEntry reads one entry with the documents it cites.
func (s *Store) cacheEntry(ctx context.Context, query string, args ...any) (ragqueue.CacheEntry, error) {
	var (
		e       ragqueue.CacheEntry
		vec     []byte
		result  string
		created int64
	)
	if err := s.rdb.QueryRowContext(ctx, query, args...).Scan(&e.ID, &e.Tenant, &e.Space, &e.Key, &e.Question, &vec, &result, &created); err != nil {
		return ragqueue.CacheEntry{}, err
	}
	v, err := storage.DecodeVector(vec)
	if err != nil {
		return ragqueue.CacheEntry{}, err
	}
	e.Vector, e.Result, e.CreatedAt = v, []byte(result), fromNanos(created)
	rows, err := s.rdb.QueryContext(ctx, `SELECT document_id FROM cache_documents WHERE entry_id = ? ORDER BY document_id`, e.ID)
	if err != nil {
		return ragqueue.CacheEntry{}, err
	}
	defer rows.Close()
	e.DocumentIDs = []string{}
	for rows.Next() {
		var d string
		if err := rows.Scan(&d); err != nil {
			return ragqueue.CacheEntry{}, err
		}
		e.DocumentIDs = append(e.DocumentIDs, d)
	}
	return e, rows.Err()
}

// CacheVectors implements ragqueue.CacheStore.
func (s *Store) CacheVectors(ctx context.Context, tenant, space string, notBefore time.Time, limit int) ([]ragqueue.CacheEntry, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT id, vector FROM cache_entries
		WHERE tenant = ? AND space = ? AND created_at >= ? AND vector IS NOT NULL
		ORDER BY created_at DESC, id DESC LIMIT ?`, tenant, space, nanos(notBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: cache vectors: %w", err)
	}
	defer rows.Close()
	out := []ragqueue.CacheEntry{}
	for rows.Next() {
		var (
			e   = ragqueue.CacheEntry{Tenant: tenant, Space: space}
			vec []byte
		)
		if err := rows.Scan(&e.ID, &vec); err != nil {
			return nil, fmt.Errorf("sqlite: cache vectors: %w", err)
		}
		if e.Vector, err = storage.DecodeVector(vec); err != nil {
			return nil, fmt.Errorf("sqlite: cache vectors: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: cache vectors: %w", err)
	}
	return out, nil
}

// InvalidateDocumentCache implements ragqueue.CacheStore.
func (s *Store) InvalidateDocumentCache(ctx context.Context, tenant, documentID string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: invalidate cache of document %s: %w", documentID, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, `INSERT INTO cache_document_changes (tenant, document_id, changed_at) VALUES (?, ?, ?)
		ON CONFLICT (tenant, document_id) DO UPDATE SET changed_at = excluded.changed_at`,
		tenant, documentID, nanos(now())); err != nil {
		return fmt.Errorf("sqlite: invalidate cache of document %s: %w", documentID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM cache_entries WHERE id IN
		(SELECT entry_id FROM cache_documents WHERE tenant = ? AND document_id = ?)`, tenant, documentID); err != nil {
		return fmt.Errorf("sqlite: invalidate cache of document %s: %w", documentID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: invalidate cache of document %s: %w", documentID, err)
	}
	return nil
}
