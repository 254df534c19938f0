package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
		doc, err := scanDocument(s.pool.QueryRow(ctx, `INSERT INTO documents (`+documentColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			ON CONFLICT (tenant, sha256) DO NOTHING RETURNING `+documentColumns,
			d.ID, d.Tenant, d.Title, d.Source, d.ContentType, d.SHA256, d.Size, d.BlobKey, string(d.Status),
			d.Error, d.Pages, d.Chunks, d.Version, d.JobID, meta, ts(d.CreatedAt), ts(d.UpdatedAt)))
		switch {
		case err == nil:
			return doc, true, nil
		case isUniqueViolation(err):
			return ragqueue.Document{}, false, ragqueue.Errorf(ragqueue.ECONFLICT, "document %s already exists", d.ID)
		case !isNoRows(err):
			return ragqueue.Document{}, false, fmt.Errorf("postgres: create document %s: %w", d.ID, err)
		}
		row := s.pool.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
			WHERE tenant = $1 AND sha256 = $2`, d.Tenant, d.SHA256)
		doc, err = scanDocument(row)
		if isNoRows(err) {
			continue
		} else if err != nil {
			return ragqueue.Document{}, false, fmt.Errorf("postgres: create document %s: %w", d.ID, err)
		}
		return doc, false, nil
	}
	return ragqueue.Document{}, false, fmt.Errorf("postgres: create document %s: deleted concurrently three times", d.ID)
}

// GetDocument implements ragqueue.DocumentStore.
func (s *Store) GetDocument(ctx context.Context, tenant, id string) (ragqueue.Document, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE tenant = $1 AND id = $2`, tenant, id)
	d, err := scanDocument(row)
	if isNoRows(err) {
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return ragqueue.Document{}, fmt.Errorf("postgres: get document %s: %w", id, err)
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
	q := `SELECT ` + documentColumns + ` FROM documents WHERE tenant = $1`
	args := []any{tenant}
	if f.Status != "" {
		args = append(args, string(f.Status))
		q += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	if f.Cursor != "" {
		at, id, err := storage.DecodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		args = append(args, at, id)
		q += fmt.Sprintf(` AND (created_at, id) < ($%d, $%d)`, len(args)-1, len(args))
	}
	args = append(args, limit+1)
	q += fmt.Sprintf(` ORDER BY created_at DESC, id DESC LIMIT $%d`, len(args))
	docs, err := s.queryDocuments(ctx, q, args...)
	if err != nil {
		return nil, "", fmt.Errorf("postgres: list documents: %w", err)
	}
	docs, next := storage.Page(docs, limit, func(d ragqueue.Document) (time.Time, string) { return d.CreatedAt, d.ID })
	return docs, next, nil
}

// SetDocumentStatus implements ragqueue.DocumentStore.
func (s *Store) SetDocumentStatus(ctx context.Context, tenant, id string, version int, status ragqueue.Status, errMsg string) error {
	if err := storage.CheckDocumentStatus(status); err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `UPDATE documents SET status = $1, error = $2, updated_at = $3
		WHERE tenant = $4 AND id = $5 AND version = $6`,
		string(status), errMsg, now(), tenant, id, version)
	if err != nil {
		return fmt.Errorf("postgres: set document %s status: %w", id, err)
	}
	return mustAffect(tag, "document %s version %d not found", id, version)
}

// SetDocumentTitle implements ragqueue.DocumentStore.
func (s *Store) SetDocumentTitle(ctx context.Context, tenant, id string, version int, title string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE documents SET title = $1, updated_at = $2
		WHERE tenant = $3 AND id = $4 AND version = $5`,
		title, now(), tenant, id, version)
	if err != nil {
		return fmt.Errorf("postgres: set document %s title: %w", id, err)
	}
	return mustAffect(tag, "document %s version %d not found", id, version)
}

// NewVersion implements ragqueue.DocumentStore.
func (s *Store) NewVersion(ctx context.Context, tenant, id string, expectVersion int, next ragqueue.Document) (ragqueue.Document, []string, error) {
	meta, err := storage.PrepareVersion(next)
	if err != nil {
		return ragqueue.Document{}, nil, err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return ragqueue.Document{}, nil, fmt.Errorf("postgres: new version of %s: %w", id, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var (
		version                  int
		status, blobKey, prevKey string
	)
	err = tx.QueryRow(ctx, `SELECT version, status, blob_key, prev_blob_key FROM documents
		WHERE tenant = $1 AND id = $2 FOR UPDATE`, tenant, id).Scan(&version, &status, &blobKey, &prevKey)
	if isNoRows(err) {
		return ragqueue.Document{}, nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return ragqueue.Document{}, nil, fmt.Errorf("postgres: new version of %s: %w", id, err)
	}
	if version != expectVersion {
		return ragqueue.Document{}, nil, storage.ErrVersionMoved(id, version, expectVersion)
	}
	keep, released := storage.VersionBlobs(status == string(ragqueue.StatusReady), blobKey, prevKey)
	row := tx.QueryRow(ctx, `UPDATE documents SET version = $1, title = $2, source = $3, content_type = $4,
			sha256 = $5, size = $6, blob_key = $7, status = 'queued', error = '', pages = 0, chunks = 0,
			job_id = $8, metadata = COALESCE($9::jsonb, metadata), prev_blob_key = $10, updated_at = $11
		WHERE tenant = $12 AND id = $13
		RETURNING `+documentColumns,
		version+1, next.Title, next.Source, next.ContentType, next.SHA256, next.Size, next.BlobKey,
		next.JobID, meta, keep, now(), tenant, id)
	doc, err := scanDocument(row)
	if isUniqueViolation(err) {
		_ = tx.Rollback(ctx)
		return ragqueue.Document{}, nil, s.errSameBytes(ctx, tenant, next.SHA256)
	} else if err != nil {
		return ragqueue.Document{}, nil, fmt.Errorf("postgres: new version of %s: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return ragqueue.Document{}, nil, fmt.Errorf("postgres: new version of %s: commit: %w", id, err)
	}
	return doc, released, nil
}

// errSameBytes names the tenant's document that already holds sha.
func (s *Store) errSameBytes(ctx context.Context, tenant, sha string) error {
	var other string
	if err := s.pool.QueryRow(ctx, `SELECT id FROM documents WHERE tenant = $1 AND sha256 = $2`, tenant, sha).Scan(&other); err != nil {
		return storage.ErrSameBytes("") // the holder is unknown; the conflict stands
	}
	return storage.ErrSameBytes(other)
}

// RetryDocument implements ragqueue.DocumentStore.
func (s *Store) RetryDocument(ctx context.Context, tenant, id string, version int, jobID string) (ragqueue.Document, error) {
	if jobID == "" {
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.EINVALID, "a retry needs a job id")
	}
	row := s.pool.QueryRow(ctx, `UPDATE documents SET status = 'queued', error = '', job_id = $1, updated_at = $2
		WHERE tenant = $3 AND id = $4 AND version = $5 AND status = 'failed'
		RETURNING `+documentColumns, jobID, now(), tenant, id, version)
	doc, err := scanDocument(row)
	if err == nil {
		return doc, nil
	} else if !isNoRows(err) {
		return ragqueue.Document{}, fmt.Errorf("postgres: retry document %s: %w", id, err)
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
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return "", fmt.Errorf("postgres: complete document %s: %w", id, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var prev string
	err = tx.QueryRow(ctx, `UPDATE documents SET status = 'ready', error = $1, updated_at = $2
		WHERE tenant = $3 AND id = $4 AND version = $5 RETURNING prev_blob_key`,
		note, now(), tenant, id, version).Scan(&prev)
	if isNoRows(err) {
		return "", ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s version %d not found", id, version)
	} else if err != nil {
		return "", fmt.Errorf("postgres: complete document %s: %w", id, err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM chunks WHERE document_id = $1 AND version < $2`, id, version); err != nil {
		return "", fmt.Errorf("postgres: complete document %s: delete old chunks: %w", id, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return "", fmt.Errorf("postgres: complete document %s: commit: %w", id, err)
	}
	return prev, nil
}

// DeleteDocument implements ragqueue.DocumentStore. Its chunks go with it
// (ON DELETE CASCADE, in the same statement).
func (s *Store) DeleteDocument(ctx context.Context, tenant, id string) ([]string, error) {
	var blob, prev string
	err := s.pool.QueryRow(ctx, `DELETE FROM documents WHERE tenant = $1 AND id = $2
		RETURNING blob_key, prev_blob_key`, tenant, id).Scan(&blob, &prev)
	if isNoRows(err) {
		return nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: delete document %s: %w", id, err)
	}
	return storage.BlobKeys(blob, prev), nil
}

// UnfinishedDocuments implements ragqueue.DocumentStore. limit <= 0 means 100.
func (s *Store) UnfinishedDocuments(ctx context.Context, limit int) ([]ragqueue.Document, error) {
	limit = storage.ScanLimit(limit)
	docs, err := s.queryDocuments(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE status IN ('queued', 'processing') ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: unfinished documents: %w", err)
	}
	return docs, nil
}

// ReadyDocuments implements ragqueue.DocumentStore.
func (s *Store) ReadyDocuments(ctx context.Context, after string, limit int) ([]ragqueue.Document, error) {
	limit = storage.ScanLimit(limit)
	docs, err := s.queryDocuments(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE status = 'ready' AND id > $1 ORDER BY id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: ready documents: %w", err)
	}
	return docs, nil
}

func (s *Store) queryDocuments(ctx context.Context, q string, args ...any) ([]ragqueue.Document, error) {
	rows, err := s.pool.Query(ctx, q, args...)
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

func scanDocument(row pgx.Row) (ragqueue.Document, error) {
	var (
		d      ragqueue.Document
		status string
		meta   []byte
	)
	err := row.Scan(&d.ID, &d.Tenant, &d.Title, &d.Source, &d.ContentType, &d.SHA256, &d.Size, &d.BlobKey,
		&status, &d.Error, &d.Pages, &d.Chunks, &d.Version, &d.JobID, &meta, &d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return ragqueue.Document{}, err
	}
	d.Status = ragqueue.Status(status)
	d.Metadata = storage.StoredMetadata(meta)
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, nil
}
