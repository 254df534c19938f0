package postgres

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
)

const documentColumns = `id, tenant, title, source, content_type, sha256, size, blob_key, status,
	error, pages, chunks, version, job_id, metadata, created_at, updated_at`

// CreateDocument implements jobs.DocumentStore. An empty ID gets a new UUID,
// an empty Status becomes queued, zero times become now.
func (s *Store) CreateDocument(ctx context.Context, d ingest.Document) (ingest.Document, bool, error) {
	if d.Tenant == "" {
		return ingest.Document{}, false, ragqueue.Errorf(ragqueue.EINVALID, "document tenant is required")
	}
	if d.SHA256 == "" {
		return ingest.Document{}, false, ragqueue.Errorf(ragqueue.EINVALID, "document sha256 is required")
	}
	if d.ID == "" {
		d.ID = uuid.NewString()
	}
	if d.Status == "" {
		d.Status = ingest.StatusQueued
	}
	if !d.Status.Valid() {
		return ingest.Document{}, false, ragqueue.Errorf(ragqueue.EINVALID, "document status %q is not valid", d.Status)
	}
	meta, err := jsonObject(d.Metadata)
	if err != nil {
		return ingest.Document{}, false, err
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now()
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = d.CreatedAt
	}
	// A concurrent delete can remove the row we conflicted with before we
	// read it; then inserting again is right.
	for attempt := 0; attempt < 3; attempt++ {
		tag, err := s.pool.Exec(ctx, `INSERT INTO documents (`+documentColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			ON CONFLICT (tenant, sha256) DO NOTHING`,
			d.ID, d.Tenant, d.Title, d.Source, d.ContentType, d.SHA256, d.Size, d.BlobKey, string(d.Status),
			d.Error, d.Pages, d.Chunks, d.Version, d.JobID, meta, ts(d.CreatedAt), ts(d.UpdatedAt))
		if isUniqueViolation(err) {
			return ingest.Document{}, false, ragqueue.Errorf(ragqueue.ECONFLICT, "document %s already exists", d.ID)
		} else if err != nil {
			return ingest.Document{}, false, fmt.Errorf("postgres: create document %s: %w", d.ID, err)
		}
		row := s.pool.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
			WHERE tenant = $1 AND sha256 = $2`, d.Tenant, d.SHA256)
		doc, err := scanDocument(row)
		if isNoRows(err) {
			continue
		} else if err != nil {
			return ingest.Document{}, false, fmt.Errorf("postgres: create document %s: %w", d.ID, err)
		}
		return doc, tag.RowsAffected() == 1, nil
	}
	return ingest.Document{}, false, fmt.Errorf("postgres: create document %s: deleted concurrently three times", d.ID)
}

// GetDocument implements jobs.DocumentStore.
func (s *Store) GetDocument(ctx context.Context, tenant, id string) (ingest.Document, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE tenant = $1 AND id = $2`, tenant, id)
	d, err := scanDocument(row)
	if isNoRows(err) {
		return ingest.Document{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return ingest.Document{}, fmt.Errorf("postgres: get document %s: %w", id, err)
	}
	return d, nil
}

// ListDocuments implements jobs.DocumentStore: newest first, f.Limit
// defaulting to 50 and clamped to 500.
func (s *Store) ListDocuments(ctx context.Context, tenant string, f jobs.DocumentFilter) ([]ingest.Document, string, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, "", ragqueue.Errorf(ragqueue.EINVALID, "status %q is not valid", f.Status)
	}
	limit := clampLimit(f.Limit)
	q := `SELECT ` + documentColumns + ` FROM documents WHERE tenant = $1`
	args := []any{tenant}
	if f.Status != "" {
		args = append(args, string(f.Status))
		q += fmt.Sprintf(` AND status = $%d`, len(args))
	}
	if f.Cursor != "" {
		at, id, err := decodeCursor(f.Cursor)
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
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		last := docs[limit-1]
		next = encodeCursor(last.CreatedAt, last.ID)
	}
	return docs, next, nil
}

// SetDocumentStatus implements jobs.DocumentStore.
func (s *Store) SetDocumentStatus(ctx context.Context, tenant, id string, version int, status ingest.Status, errMsg string) error {
	if !status.Valid() {
		return ragqueue.Errorf(ragqueue.EINVALID, "document status %q is not valid", status)
	}
	tag, err := s.pool.Exec(ctx, `UPDATE documents SET status = $1, error = $2, updated_at = $3
		WHERE tenant = $4 AND id = $5 AND version = $6`,
		string(status), errMsg, now(), tenant, id, version)
	if err != nil {
		return fmt.Errorf("postgres: set document %s status: %w", id, err)
	}
	return mustAffect(tag, "document %s version %d not found", id, version)
}

// SetDocumentCounts implements jobs.DocumentStore.
func (s *Store) SetDocumentCounts(ctx context.Context, tenant, id string, version, pages, chunks int) error {
	tag, err := s.pool.Exec(ctx, `UPDATE documents SET pages = $1, chunks = $2, updated_at = $3
		WHERE tenant = $4 AND id = $5 AND version = $6`,
		pages, chunks, now(), tenant, id, version)
	if err != nil {
		return fmt.Errorf("postgres: set document %s counts: %w", id, err)
	}
	return mustAffect(tag, "document %s version %d not found", id, version)
}

// SetDocumentTitle implements jobs.DocumentStore.
func (s *Store) SetDocumentTitle(ctx context.Context, tenant, id string, version int, title string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE documents SET title = $1, updated_at = $2
		WHERE tenant = $3 AND id = $4 AND version = $5`,
		title, now(), tenant, id, version)
	if err != nil {
		return fmt.Errorf("postgres: set document %s title: %w", id, err)
	}
	return mustAffect(tag, "document %s version %d not found", id, version)
}

// DeleteDocument implements jobs.DocumentStore. Its chunks go with it
// (ON DELETE CASCADE, in the same statement).
func (s *Store) DeleteDocument(ctx context.Context, tenant, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM documents WHERE tenant = $1 AND id = $2`, tenant, id)
	if err != nil {
		return fmt.Errorf("postgres: delete document %s: %w", id, err)
	}
	return mustAffect(tag, "document %s not found", id)
}

// UnfinishedDocuments implements jobs.DocumentStore. limit <= 0 means 100.
func (s *Store) UnfinishedDocuments(ctx context.Context, limit int) ([]ingest.Document, error) {
	if limit <= 0 {
		limit = defaultUnfinishedLimit
	}
	docs, err := s.queryDocuments(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE status IN ('queued', 'processing') ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: unfinished documents: %w", err)
	}
	return docs, nil
}

func (s *Store) queryDocuments(ctx context.Context, q string, args ...any) ([]ingest.Document, error) {
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	docs := []ingest.Document{}
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
	return docs, rows.Err()
}

func scanDocument(row pgx.Row) (ingest.Document, error) {
	var (
		d      ingest.Document
		status string
		meta   []byte
	)
	err := row.Scan(&d.ID, &d.Tenant, &d.Title, &d.Source, &d.ContentType, &d.SHA256, &d.Size, &d.BlobKey,
		&status, &d.Error, &d.Pages, &d.Chunks, &d.Version, &d.JobID, &meta, &d.CreatedAt, &d.UpdatedAt)
	if err != nil {
		return ingest.Document{}, err
	}
	d.Status = ingest.Status(status)
	d.Metadata = json.RawMessage(meta)
	if len(bytes.TrimSpace(meta)) == 0 {
		d.Metadata = json.RawMessage(`{}`)
	}
	d.CreatedAt, d.UpdatedAt = d.CreatedAt.UTC(), d.UpdatedAt.UTC()
	return d, nil
}

// jsonObject validates document metadata: nil, empty or null become {}.
func jsonObject(raw json.RawMessage) (string, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return "{}", nil
	}
	if t[0] != '{' || !json.Valid(t) {
		return "", ragqueue.Errorf(ragqueue.EINVALID, "metadata must be a JSON object")
	}
	return string(t), nil
}

// encodeCursor makes the opaque keyset cursor of ListDocuments.
func encodeCursor(createdAt time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(createdAt.UnixNano(), 10) + "." + id))
}

func decodeCursor(c string) (time.Time, string, error) {
	bad := ragqueue.Errorf(ragqueue.EINVALID, "cursor is not valid; pass next_cursor from the previous page")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	at, id, ok := strings.Cut(string(b), ".")
	if !ok || id == "" {
		return time.Time{}, "", bad
	}
	n, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return time.Time{}, "", bad
	}
	return time.Unix(0, n).UTC(), id, nil
}
