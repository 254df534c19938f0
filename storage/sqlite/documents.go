package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const documentColumns = `id, tenant, title, source, content_type, sha256, size, blob_key, status,
	error, pages, chunks, version, job_id, metadata, created_at, updated_at`

// CreateDocument implements ragqueue.DocumentStore. An empty ID gets a new UUID,
// an empty Status becomes queued, zero times become now.
func (s *Store) CreateDocument(ctx context.Context, d ragqueue.Document) (ragqueue.Document, bool, error) {
	d, meta, err := storage.PrepareDocument(d, now())
	if err != nil {
		return ragqueue.Document{}, false, err
	}
	// A concurrent delete can remove the row we conflicted with before we
	// read it; then inserting again is right.
	for attempt := 0; attempt < 3; attempt++ {
		// The row as stored comes back from the INSERT itself; nothing comes
		// back when the tenant already holds these bytes.
		doc, err := scanDocument(s.db.QueryRowContext(ctx, `INSERT INTO documents (`+documentColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, sha256) DO NOTHING RETURNING `+documentColumns,
			d.ID, d.Tenant, d.Title, d.Source, d.ContentType, d.SHA256, d.Size, d.BlobKey, string(d.Status),
			d.Error, d.Pages, d.Chunks, d.Version, d.JobID, meta, nanos(d.CreatedAt), nanos(d.UpdatedAt)))
		switch {
		case err == nil:
			return doc, true, nil
		case isConstraint(err):
			return ragqueue.Document{}, false, ragqueue.Errorf(ragqueue.ECONFLICT, "document %s already exists", d.ID)
		case !errors.Is(err, sql.ErrNoRows):
			return ragqueue.Document{}, false, fmt.Errorf("sqlite: create document %s: %w", d.ID, err)
		}
		row := s.rdb.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents
			WHERE tenant = ? AND sha256 = ?`, d.Tenant, d.SHA256)
		doc, err = scanDocument(row)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return ragqueue.Document{}, false, fmt.Errorf("sqlite: create document %s: %w", d.ID, err)
		}
		return doc, false, nil
	}
	return ragqueue.Document{}, false, fmt.Errorf("sqlite: create document %s: deleted concurrently three times", d.ID)
}

// GetDocument implements ragqueue.DocumentStore.
func (s *Store) GetDocument(ctx context.Context, tenant, id string) (ragqueue.Document, error) {
	row := s.rdb.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE tenant = ? AND id = ?`, tenant, id)
	d, err := scanDocument(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return ragqueue.Document{}, fmt.Errorf("sqlite: get document %s: %w", id, err)
	}
	return d, nil
}

// ListDocuments implements ragqueue.DocumentStore: newest first, f.Limit
// defaulting to 50 and clamped to 500.
func (s *Store) ListDocuments(ctx context.Context, tenant string, f ragqueue.DocumentFilter) ([]ragqueue.Document, string, error) {
	if f.Status != "" {
		if err := storage.CheckDocumentStatus(f.Status); err != nil {
			return nil, "", err
		}
	}
	limit := storage.ClampLimit(f.Limit)
	q := `SELECT ` + documentColumns + ` FROM documents WHERE tenant = ?`
	args := []any{tenant}
	if f.Status != "" {
		q += ` AND status = ?`
		args = append(args, string(f.Status))
	}
	if f.Cursor != "" {
		at, id, err := storage.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q += ` AND (created_at, id) < (?, ?)`
		args = append(args, nanos(at), id)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit+1)
	docs, err := s.queryDocuments(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: list documents: %w", err)
	}
	docs, next := storage.Page(docs, limit, func(d ragqueue.Document) (time.Time, string) { return d.CreatedAt, d.ID })
	return docs, next, nil
}

// SetDocumentStatus implements ragqueue.DocumentStore.
func (s *Store) SetDocumentStatus(ctx context.Context, tenant, id string, version int, status ragqueue.Status, errMsg string) error {
	if err := storage.CheckDocumentStatus(status); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET status = ?, error = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ?`,
		string(status), errMsg, nanos(now()), tenant, id, version)
	if err != nil {
		return fmt.Errorf("sqlite: set document %s status: %w", id, err)
	}
	return mustAffect(res, "document %s version %d not found", id, version)
}

// SetDocumentTitle implements ragqueue.DocumentStore.
func (s *Store) SetDocumentTitle(ctx context.Context, tenant, id string, version int, title string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET title = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ?`,
		title, nanos(now()), tenant, id, version)
	if err != nil {
		return fmt.Errorf("sqlite: set document %s title: %w", id, err)
	}
	return mustAffect(res, "document %s version %d not found", id, version)
}

// NewVersion implements ragqueue.DocumentStore.
func (s *Store) NewVersion(ctx context.Context, tenant, id string, expectVersion int, next ragqueue.Document) (ragqueue.Document, []string, error) {
	meta, err := storage.PrepareVersion(next)
	if err != nil {
		return ragqueue.Document{}, nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ragqueue.Document{}, nil, fmt.Errorf("sqlite: new version of %s: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	var (
		version                  int
		status, blobKey, prevKey string
	)
	err = tx.QueryRowContext(ctx, `SELECT version, status, blob_key, prev_blob_key FROM documents
		WHERE tenant = ? AND id = ?`, tenant, id).Scan(&version, &status, &blobKey, &prevKey)
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Document{}, nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return ragqueue.Document{}, nil, fmt.Errorf("sqlite: new version of %s: %w", id, err)
	}
	if version != expectVersion {
		return ragqueue.Document{}, nil, storage.ErrVersionMoved(id, version, expectVersion)
	}
	keep, released := storage.VersionBlobs(status == string(ragqueue.StatusReady), blobKey, prevKey)
	doc, err := scanDocument(tx.QueryRowContext(ctx, `UPDATE documents SET version = ?, title = ?, source = ?, content_type = ?,
			sha256 = ?, size = ?, blob_key = ?, status = 'queued', error = '', pages = 0, chunks = 0,
			job_id = ?, metadata = COALESCE(?, metadata), prev_blob_key = ?, updated_at = ?
		WHERE tenant = ? AND id = ?
		RETURNING `+documentColumns,
		version+1, next.Title, next.Source, next.ContentType, next.SHA256, next.Size, next.BlobKey,
		next.JobID, meta, keep, nanos(now()), tenant, id))
	if isConstraint(err) {
		_ = tx.Rollback()
		return ragqueue.Document{}, nil, s.errSameBytes(ctx, tenant, next.SHA256)
	} else if err != nil {
		return ragqueue.Document{}, nil, fmt.Errorf("sqlite: new version of %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return ragqueue.Document{}, nil, fmt.Errorf("sqlite: new version of %s: commit: %w", id, err)
	}
	return doc, released, nil
}

// errSameBytes names the tenant's document that already holds sha.
func (s *Store) errSameBytes(ctx context.Context, tenant, sha string) error {
	var other string
	if err := s.rdb.QueryRowContext(ctx, `SELECT id FROM documents WHERE tenant = ? AND sha256 = ?`, tenant, sha).Scan(&other); err != nil {
		return storage.ErrSameBytes("") // the holder is unknown; the conflict stands
	}
	return storage.ErrSameBytes(other)
}

// RetryDocument implements ragqueue.DocumentStore.
func (s *Store) RetryDocument(ctx context.Context, tenant, id string, version int, jobID string) (ragqueue.Document, error) {
	if jobID == "" {
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.EINVALID, "a retry needs a job id")
	}
	row := s.db.QueryRowContext(ctx, `UPDATE documents SET status = 'queued', error = '', job_id = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ? AND status = 'failed'
		RETURNING `+documentColumns, jobID, nanos(now()), tenant, id, version)
	doc, err := scanDocument(row)
	if err == nil {
		return doc, nil
	} else if !errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Document{}, fmt.Errorf("sqlite: retry document %s: %w", id, err)
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
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("sqlite: complete document %s: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	var prev string
	err = tx.QueryRowContext(ctx, `UPDATE documents SET status = 'ready', error = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ? RETURNING prev_blob_key`,
		note, nanos(now()), tenant, id, version).Scan(&prev)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s version %d not found", id, version)
	} else if err != nil {
		return "", fmt.Errorf("sqlite: complete document %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE document_id = ? AND version < ?`, id, version); err != nil {
		return "", fmt.Errorf("sqlite: complete document %s: delete old chunks: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("sqlite: complete document %s: commit: %w", id, err)
	}
	return prev, nil
}

// DeleteDocument implements ragqueue.DocumentStore. Its chunks go with it
// (ON DELETE CASCADE, in the same statement).
func (s *Store) DeleteDocument(ctx context.Context, tenant, id string) ([]string, error) {
	var blob, prev string
	err := s.db.QueryRowContext(ctx, `DELETE FROM documents WHERE tenant = ? AND id = ?
		RETURNING blob_key, prev_blob_key`, tenant, id).Scan(&blob, &prev)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: delete document %s: %w", id, err)
	}
	return storage.BlobKeys(blob, prev), nil
}

// UnfinishedDocuments implements ragqueue.DocumentStore. limit <= 0 means 100.
func (s *Store) UnfinishedDocuments(ctx context.Context, limit int) ([]ragqueue.Document, error) {
	limit = storage.ScanLimit(limit)
	docs, err := s.queryDocuments(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE status IN ('queued', 'processing') ORDER BY created_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unfinished documents: %w", err)
	}
	return docs, nil
}

// ReadyDocuments implements ragqueue.DocumentStore.
func (s *Store) ReadyDocuments(ctx context.Context, after string, limit int) ([]ragqueue.Document, error) {
	limit = storage.ScanLimit(limit)
	docs, err := s.queryDocuments(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE status = 'ready' AND id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ready documents: %w", err)
	}
	return docs, nil
}

func (s *Store) queryDocuments(ctx context.Context, q string, args ...any) ([]ragqueue.Document, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	docs := []ragqueue.Document{}
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

type scanner interface{ Scan(dest ...any) error }

func scanDocument(sc scanner) (ragqueue.Document, error) {
	var (
		d                  ragqueue.Document
		status, meta       string
		created, updated   int64
		pages, chunks, ver int64
	)
	err := sc.Scan(&d.ID, &d.Tenant, &d.Title, &d.Source, &d.ContentType, &d.SHA256, &d.Size, &d.BlobKey,
		&status, &d.Error, &pages, &chunks, &ver, &d.JobID, &meta, &created, &updated)
	if err != nil {
		return ragqueue.Document{}, err
	}
	d.Status = ragqueue.Status(status)
	d.Pages, d.Chunks, d.Version = int(pages), int(chunks), int(ver)
	d.Metadata = storage.StoredMetadata([]byte(meta))
	d.CreatedAt, d.UpdatedAt = fromNanos(created), fromNanos(updated)
	return d, nil
}
