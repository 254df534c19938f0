package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

// NewVersion implements ragqueue.DocumentStore.
func (s *Store) NewVersion(ctx context.Context, tenant, id string, expectVersion int, next ragqueue.Document) (ragqueue.Document, []string, error) {
	meta, err := storage.PrepareVersion(next)
	if err != nil {
		return ragqueue.Document{}, nil, err
	}
	tx, err := s.w.Begin(ctx)
	if err != nil {
		return ragqueue.Document{}, nil, s.errorf("new version of %s: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	var (
		version                  int
		status, blobKey, prevKey string
	)
	err = tx.QueryRow(ctx, `SELECT version, status, blob_key, prev_blob_key FROM documents
		WHERE tenant = ? AND id = ?`+s.d.ForUpdate, tenant, id).Scan(&version, &status, &blobKey, &prevKey)
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Document{}, nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return ragqueue.Document{}, nil, s.errorf("new version of %s: %w", id, err)
	}
	if version != expectVersion {
		return ragqueue.Document{}, nil, storage.ErrVersionMoved(id, version, expectVersion)
	}
	keep, released := storage.VersionBlobs(status == string(ragqueue.StatusReady), blobKey, prevKey)
	doc, err := scanDocument(tx.QueryRow(ctx, `UPDATE documents SET version = ?, title = ?, source = ?, content_type = ?,
			sha256 = ?, size = ?, blob_key = ?, status = 'queued', error = '', pages = 0, chunks = 0,
			job_id = ?, metadata = COALESCE(?`+s.d.JSONCast+`, metadata), prev_blob_key = ?, updated_at = ?
		WHERE tenant = ? AND id = ?
		RETURNING `+documentColumns,
		version+1, next.Title, next.Source, next.ContentType, next.SHA256, next.Size, next.BlobKey,
		next.JobID, meta, keep, s.d.time(now()), tenant, id))
	if s.conflict(err) {
		_ = tx.Rollback()
		return ragqueue.Document{}, nil, s.errSameBytes(ctx, tenant, next.SHA256)
	} else if err != nil {
		return ragqueue.Document{}, nil, s.errorf("new version of %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return ragqueue.Document{}, nil, s.errorf("new version of %s: commit: %w", id, err)
	}
	return doc, released, nil
}

// errSameBytes names the tenant's document that already holds sha.
func (s *Store) errSameBytes(ctx context.Context, tenant, sha string) error {
	var other string
	if err := s.r.QueryRow(ctx, `SELECT id FROM documents WHERE tenant = ? AND sha256 = ?`, tenant, sha).Scan(&other); err != nil {
		return storage.ErrSameBytes("") // the holder is unknown; the conflict stands
	}
	return storage.ErrSameBytes(other)
}

// RetryDocument implements ragqueue.DocumentStore.
func (s *Store) RetryDocument(ctx context.Context, tenant, id string, version int, jobID string) (ragqueue.Document, error) {
	if jobID == "" {
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.EINVALID, "a retry needs a job id")
	}
	doc, err := scanDocument(s.w.QueryRow(ctx, `UPDATE documents SET status = 'queued', error = '', job_id = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ? AND status = 'failed'
		RETURNING `+documentColumns, jobID, s.d.time(now()), tenant, id, version))
	if err == nil {
		return doc, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Document{}, s.errorf("retry document %s: %w", id, err)
	}
	// Nothing was retried: say why.
	doc, err = s.GetDocument(ctx, tenant, id)
	if err != nil {
		return ragqueue.Document{}, err
	}
	return ragqueue.Document{}, storage.ErrNotRetryable(doc, version)
}

// CompleteVersion implements ragqueue.DocumentStore.
func (s *Store) CompleteVersion(ctx context.Context, tenant, id string, version int, note string) (string, error) {
	tx, err := s.w.Begin(ctx)
	if err != nil {
		return "", s.errorf("complete document %s: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	var prev string
	err = tx.QueryRow(ctx, `UPDATE documents SET status = 'ready', error = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ? RETURNING prev_blob_key`,
		note, s.d.time(now()), tenant, id, version).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s version %d not found", id, version)
	} else if err != nil {
		return "", s.errorf("complete document %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM chunks WHERE document_id = ? AND version < ?`, id, version); err != nil {
		return "", s.errorf("complete document %s: delete old chunks: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return "", s.errorf("complete document %s: commit: %w", id, err)
	}
	return prev, nil
}

// DeleteDocument implements ragqueue.DocumentStore. Its chunks go with it
// (ON DELETE CASCADE, in the same statement).
func (s *Store) DeleteDocument(ctx context.Context, tenant, id string) ([]string, error) {
	var blob, prev string
	err := s.w.QueryRow(ctx, `DELETE FROM documents WHERE tenant = ? AND id = ?
		RETURNING blob_key, prev_blob_key`, tenant, id).Scan(&blob, &prev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return nil, s.errorf("delete document %s: %w", id, err)
	}
	return storage.BlobKeys(blob, prev), nil
}
