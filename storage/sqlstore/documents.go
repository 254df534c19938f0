package sqlstore

import (
	"context"
	"database/sql"
	"errors"
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
		doc, err := scanDocument(s.w.QueryRow(ctx, `INSERT INTO documents (`+documentColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, sha256) DO NOTHING RETURNING `+documentColumns,
			d.ID, d.Tenant, d.Title, d.Source, d.ContentType, d.SHA256, d.Size, d.BlobKey, string(d.Status),
			d.Error, d.Pages, d.Chunks, d.Version, d.JobID, meta, s.d.time(d.CreatedAt), s.d.time(d.UpdatedAt)))
		switch {
		case err == nil:
			return doc, true, nil
		case s.conflict(err):
			return ragqueue.Document{}, false, ragqueue.Errorf(ragqueue.ECONFLICT, "document %s already exists", d.ID)
		case !errors.Is(err, sql.ErrNoRows):
			return ragqueue.Document{}, false, s.errorf("create document %s: %w", d.ID, err)
		}
		doc, err = scanDocument(s.r.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
			WHERE tenant = ? AND sha256 = ?`, d.Tenant, d.SHA256))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return ragqueue.Document{}, false, s.errorf("create document %s: %w", d.ID, err)
		}
		return doc, false, nil
	}
	return ragqueue.Document{}, false, s.errorf("create document %s: deleted concurrently three times", d.ID)
}

// GetDocument implements ragqueue.DocumentStore.
func (s *Store) GetDocument(ctx context.Context, tenant, id string) (ragqueue.Document, error) {
	d, err := scanDocument(s.r.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE tenant = ? AND id = ?`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return ragqueue.Document{}, s.errorf("get document %s: %w", id, err)
	}
	return d, nil
}

// DocumentBySource implements ragqueue.DocumentStore.
func (s *Store) DocumentBySource(ctx context.Context, tenant, source string) (ragqueue.Document, error) {
	d, err := scanDocument(s.r.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents`+s.d.SourceIndex+`
		WHERE tenant = ? AND source = ? ORDER BY created_at DESC, id DESC LIMIT 1`, tenant, source))
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "no document has the source %s", source)
	} else if err != nil {
		return ragqueue.Document{}, s.errorf("document by source: %w", err)
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
	q, args, err := s.newestFirst(q, args, " AND ", "created_at", f.Cursor, limit)
	if err != nil {
		return nil, "", err
	}
	docs, err := list(ctx, s.r, scanDocument, q, args...)
	if err != nil {
		return nil, "", s.errorf("list documents: %w", err)
	}
	docs, next := storage.Page(docs, limit, func(d ragqueue.Document) (time.Time, string) { return d.CreatedAt, d.ID })
	return docs, next, nil
}

// SetDocumentStatus implements ragqueue.DocumentStore.
func (s *Store) SetDocumentStatus(ctx context.Context, tenant, id string, version int, status ragqueue.Status, errMsg string) error {
	if err := storage.CheckDocumentStatus(status); err != nil {
		return err
	}
	res, err := s.w.Exec(ctx, `UPDATE documents SET status = ?, error = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ?`,
		string(status), errMsg, s.d.time(now()), tenant, id, version)
	if err != nil {
		return s.errorf("set document %s status: %w", id, err)
	}
	return s.mustAffect(res, "document %s version %d not found", id, version)
}

// SetDocumentTitle implements ragqueue.DocumentStore.
func (s *Store) SetDocumentTitle(ctx context.Context, tenant, id string, version int, title string) error {
	res, err := s.w.Exec(ctx, `UPDATE documents SET title = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ?`,
		title, s.d.time(now()), tenant, id, version)
	if err != nil {
		return s.errorf("set document %s title: %w", id, err)
	}
	return s.mustAffect(res, "document %s version %d not found", id, version)
}

// UnfinishedDocuments implements ragqueue.DocumentStore. limit <= 0 means 100.
func (s *Store) UnfinishedDocuments(ctx context.Context, limit int) ([]ragqueue.Document, error) {
	docs, err := list(ctx, s.r, scanDocument, `SELECT `+documentColumns+` FROM documents
		WHERE status IN ('queued', 'processing') ORDER BY created_at, id LIMIT ?`, storage.ScanLimit(limit))
	if err != nil {
		return nil, s.errorf("unfinished documents: %w", err)
	}
	return docs, nil
}

// ReadyDocuments implements ragqueue.DocumentStore.
func (s *Store) ReadyDocuments(ctx context.Context, after string, limit int) ([]ragqueue.Document, error) {
	docs, err := list(ctx, s.r, scanDocument, `SELECT `+documentColumns+` FROM documents
		WHERE status = 'ready' AND id > ? ORDER BY id LIMIT ?`, after, storage.ScanLimit(limit))
	if err != nil {
		return nil, s.errorf("ready documents: %w", err)
	}
	return docs, nil
}

// scanDocument reads one row of documentColumns.
func scanDocument(sc scanner) (ragqueue.Document, error) {
	var (
		d                  ragqueue.Document
		status             string
		meta               []byte
		pages, chunks, ver int64
	)
	err := sc.Scan(&d.ID, &d.Tenant, &d.Title, &d.Source, &d.ContentType, &d.SHA256, &d.Size, &d.BlobKey,
		&status, &d.Error, &pages, &chunks, &ver, &d.JobID, &meta, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt})
	if err != nil {
		return ragqueue.Document{}, err
	}
	d.Status = ragqueue.Status(status)
	d.Pages, d.Chunks, d.Version = int(pages), int(chunks), int(ver)
	d.Metadata = storage.StoredMetadata(meta)
	return d, nil
}
