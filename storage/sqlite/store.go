package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/storage"
)

// Listing limits shared by ListDocuments and the reconciler scans.
const (
	defaultUnfinishedLimit = 100
	// chunkBatch rows per multi-row INSERT: 8 parameters each keeps a batch
	// far below SQLite's 32766-parameter limit.
	chunkBatch = 200
)

// Store is the metadata store of embedded mode: documents, chunk text, jobs
// and API keys in the SQLite file that DB opened. It is safe for concurrent
// use.
type Store struct {
	db  *sql.DB // writes (one connection)
	rdb *sql.DB // reads
}

var _ jobs.Store = (*Store)(nil)

// NewStore returns the metadata store over db. db's migrations have already
// created its tables.
func NewStore(db *DB) *Store { return &Store{db: db.sql, rdb: db.read} }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// ---- documents ----

const documentColumns = `id, tenant, title, source, content_type, sha256, size, blob_key, status,
	error, pages, chunks, version, job_id, metadata, created_at, updated_at`

// CreateDocument implements jobs.DocumentStore. An empty ID gets a new UUID,
// an empty Status becomes queued, zero times become now.
func (s *Store) CreateDocument(ctx context.Context, d ingest.Document) (ingest.Document, bool, error) {
	d, meta, err := storage.PrepareDocument(d, now())
	if err != nil {
		return ingest.Document{}, false, err
	}
	// A concurrent delete can remove the row we conflicted with before we
	// read it; then inserting again is right.
	for attempt := 0; attempt < 3; attempt++ {
		res, err := s.db.ExecContext(ctx, `INSERT INTO documents (`+documentColumns+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (tenant, sha256) DO NOTHING`,
			d.ID, d.Tenant, d.Title, d.Source, d.ContentType, d.SHA256, d.Size, d.BlobKey, string(d.Status),
			d.Error, d.Pages, d.Chunks, d.Version, d.JobID, meta, nanos(d.CreatedAt), nanos(d.UpdatedAt))
		if isConstraint(err) {
			return ingest.Document{}, false, ragqueue.Errorf(ragqueue.ECONFLICT, "document %s already exists", d.ID)
		} else if err != nil {
			return ingest.Document{}, false, fmt.Errorf("sqlite: create document %s: %w", d.ID, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return ingest.Document{}, false, fmt.Errorf("sqlite: create document %s: %w", d.ID, err)
		}
		row := s.rdb.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents
			WHERE tenant = ? AND sha256 = ?`, d.Tenant, d.SHA256)
		doc, err := scanDocument(row)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return ingest.Document{}, false, fmt.Errorf("sqlite: create document %s: %w", d.ID, err)
		}
		return doc, n == 1, nil
	}
	return ingest.Document{}, false, fmt.Errorf("sqlite: create document %s: deleted concurrently three times", d.ID)
}

// GetDocument implements jobs.DocumentStore.
func (s *Store) GetDocument(ctx context.Context, tenant, id string) (ingest.Document, error) {
	row := s.rdb.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE tenant = ? AND id = ?`, tenant, id)
	d, err := scanDocument(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ingest.Document{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return ingest.Document{}, fmt.Errorf("sqlite: get document %s: %w", id, err)
	}
	return d, nil
}

// ListDocuments implements jobs.DocumentStore: newest first, f.Limit
// defaulting to 50 and clamped to 500.
func (s *Store) ListDocuments(ctx context.Context, tenant string, f jobs.DocumentFilter) ([]ingest.Document, string, error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, "", ragqueue.Errorf(ragqueue.EINVALID, "status %q is not valid", f.Status)
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
	next := ""
	if len(docs) > limit {
		docs = docs[:limit]
		last := docs[limit-1]
		next = storage.EncodeCursor(last.CreatedAt, last.ID)
	}
	return docs, next, nil
}

// SetDocumentStatus implements jobs.DocumentStore.
func (s *Store) SetDocumentStatus(ctx context.Context, tenant, id string, version int, status ingest.Status, errMsg string) error {
	if !status.Valid() {
		return ragqueue.Errorf(ragqueue.EINVALID, "document status %q is not valid", status)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET status = ?, error = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ?`,
		string(status), errMsg, nanos(now()), tenant, id, version)
	if err != nil {
		return fmt.Errorf("sqlite: set document %s status: %w", id, err)
	}
	return mustAffect(res, "document %s version %d not found", id, version)
}

// SetDocumentCounts implements jobs.DocumentStore.
func (s *Store) SetDocumentCounts(ctx context.Context, tenant, id string, version, pages, chunks int) error {
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET pages = ?, chunks = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ?`,
		pages, chunks, nanos(now()), tenant, id, version)
	if err != nil {
		return fmt.Errorf("sqlite: set document %s counts: %w", id, err)
	}
	return mustAffect(res, "document %s version %d not found", id, version)
}

// SetDocumentTitle implements jobs.DocumentStore.
func (s *Store) SetDocumentTitle(ctx context.Context, tenant, id string, version int, title string) error {
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET title = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ?`,
		title, nanos(now()), tenant, id, version)
	if err != nil {
		return fmt.Errorf("sqlite: set document %s title: %w", id, err)
	}
	return mustAffect(res, "document %s version %d not found", id, version)
}

// NewVersion implements jobs.DocumentStore.
func (s *Store) NewVersion(ctx context.Context, tenant, id string, expectVersion int, next ingest.Document) (ingest.Document, []string, error) {
	if next.SHA256 == "" {
		return ingest.Document{}, nil, ragqueue.Errorf(ragqueue.EINVALID, "document sha256 is required")
	}
	var meta any // nil keeps the stored metadata
	if next.Metadata != nil {
		m, err := storage.JSONObject(next.Metadata)
		if err != nil {
			return ingest.Document{}, nil, err
		}
		meta = m
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return ingest.Document{}, nil, fmt.Errorf("sqlite: new version of %s: %w", id, err)
	}
	defer func() { _ = tx.Rollback() }()
	var (
		version                  int
		status, blobKey, prevKey string
	)
	err = tx.QueryRowContext(ctx, `SELECT version, status, blob_key, prev_blob_key FROM documents
		WHERE tenant = ? AND id = ?`, tenant, id).Scan(&version, &status, &blobKey, &prevKey)
	if errors.Is(err, sql.ErrNoRows) {
		return ingest.Document{}, nil, ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s not found", id)
	} else if err != nil {
		return ingest.Document{}, nil, fmt.Errorf("sqlite: new version of %s: %w", id, err)
	}
	if version != expectVersion {
		return ingest.Document{}, nil, errVersionMoved(id, version, expectVersion)
	}
	keep, released := storage.VersionBlobs(status == string(ingest.StatusReady), blobKey, prevKey)
	_, err = tx.ExecContext(ctx, `UPDATE documents SET version = ?, title = ?, source = ?, content_type = ?,
			sha256 = ?, size = ?, blob_key = ?, status = 'queued', error = '', pages = 0, chunks = 0,
			job_id = ?, metadata = COALESCE(?, metadata), prev_blob_key = ?, updated_at = ?
		WHERE tenant = ? AND id = ?`,
		version+1, next.Title, next.Source, next.ContentType, next.SHA256, next.Size, next.BlobKey,
		next.JobID, meta, keep, nanos(now()), tenant, id)
	if isConstraint(err) {
		_ = tx.Rollback()
		return ingest.Document{}, nil, s.errSameBytes(ctx, tenant, next.SHA256)
	} else if err != nil {
		return ingest.Document{}, nil, fmt.Errorf("sqlite: new version of %s: %w", id, err)
	}
	doc, err := scanDocument(tx.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE tenant = ? AND id = ?`, tenant, id))
	if err != nil {
		return ingest.Document{}, nil, fmt.Errorf("sqlite: new version of %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return ingest.Document{}, nil, fmt.Errorf("sqlite: new version of %s: commit: %w", id, err)
	}
	return doc, released, nil
}

// errVersionMoved is NewVersion's compare-and-set failure.
func errVersionMoved(id string, version, expected int) error {
	return ragqueue.Errorf(ragqueue.ECONFLICT,
		"document %s changed meanwhile (it is at version %d, not %d); fetch it and send the new content again", id, version, expected)
}

// errSameBytes names the tenant's document that already holds sha.
func (s *Store) errSameBytes(ctx context.Context, tenant, sha string) error {
	var other string
	err := s.rdb.QueryRowContext(ctx, `SELECT id FROM documents WHERE tenant = ? AND sha256 = ?`, tenant, sha).Scan(&other)
	if err != nil {
		other = "another document"
	}
	return ragqueue.Errorf(ragqueue.ECONFLICT,
		"document %s already has exactly these bytes; update or delete that document instead", other)
}

// RetryDocument implements jobs.DocumentStore.
func (s *Store) RetryDocument(ctx context.Context, tenant, id string, version int, jobID string) (ingest.Document, error) {
	if jobID == "" {
		return ingest.Document{}, ragqueue.Errorf(ragqueue.EINVALID, "a retry needs a job id")
	}
	res, err := s.db.ExecContext(ctx, `UPDATE documents SET status = 'queued', error = '', job_id = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ? AND status = 'failed'`,
		jobID, nanos(now()), tenant, id, version)
	if err != nil {
		return ingest.Document{}, fmt.Errorf("sqlite: retry document %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return ingest.Document{}, fmt.Errorf("sqlite: retry document %s: %w", id, err)
	}
	doc, err := s.GetDocument(ctx, tenant, id)
	if err != nil {
		return ingest.Document{}, err
	}
	if n == 0 {
		return ingest.Document{}, errNotRetryable(doc, version)
	}
	return doc, nil
}

// errNotRetryable says why RetryDocument refused doc.
func errNotRetryable(doc ingest.Document, version int) error {
	if doc.Version != version {
		return errVersionMoved(doc.ID, doc.Version, version)
	}
	return ragqueue.Errorf(ragqueue.ECONFLICT, "document %s is %s, not failed; only failed documents can be retried", doc.ID, doc.Status)
}

// CompleteVersion implements jobs.DocumentStore.
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

// DeleteDocument implements jobs.DocumentStore. Its chunks go with it
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
	return blobKeys(blob, prev), nil
}

// blobKeys lists the non-empty, distinct keys among a document's blob keys.
func blobKeys(blob, prev string) []string {
	keys := make([]string, 0, 2)
	if blob != "" {
		keys = append(keys, blob)
	}
	if prev != "" && prev != blob {
		keys = append(keys, prev)
	}
	return keys
}

// UnfinishedDocuments implements jobs.DocumentStore. limit <= 0 means 100.
func (s *Store) UnfinishedDocuments(ctx context.Context, limit int) ([]ingest.Document, error) {
	if limit <= 0 {
		limit = defaultUnfinishedLimit
	}
	docs, err := s.queryDocuments(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE status IN ('queued', 'processing') ORDER BY created_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unfinished documents: %w", err)
	}
	return docs, nil
}

func (s *Store) queryDocuments(ctx context.Context, q string, args ...any) ([]ingest.Document, error) {
	rows, err := s.rdb.QueryContext(ctx, q, args...)
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

type scanner interface{ Scan(dest ...any) error }

func scanDocument(sc scanner) (ingest.Document, error) {
	var (
		d                  ingest.Document
		status, meta       string
		created, updated   int64
		pages, chunks, ver int64
	)
	err := sc.Scan(&d.ID, &d.Tenant, &d.Title, &d.Source, &d.ContentType, &d.SHA256, &d.Size, &d.BlobKey,
		&status, &d.Error, &pages, &chunks, &ver, &d.JobID, &meta, &created, &updated)
	if err != nil {
		return ingest.Document{}, err
	}
	d.Status = ingest.Status(status)
	d.Pages, d.Chunks, d.Version = int(pages), int(chunks), int(ver)
	d.Metadata = json.RawMessage(meta)
	if len(bytes.TrimSpace(d.Metadata)) == 0 {
		d.Metadata = json.RawMessage(`{}`)
	}
	d.CreatedAt, d.UpdatedAt = fromNanos(created), fromNanos(updated)
	return d, nil
}

// ---- chunks ----

const chunkColumns = `id, tenant, document_id, version, idx, text, page, section`

// ReplaceChunks implements jobs.ChunkStore: in one transaction it deletes the
// chunks of (documentID, version) and inserts chunks, in multi-row batches.
// The chunks' own Tenant, DocumentID and Version fields are ignored in favour
// of the arguments. The document version must exist in tenant (ENOTFOUND).
// Text and Section must be valid UTF-8 without NUL bytes (EINVALID), which
// PostgreSQL cannot store; both adapters refuse them alike.
func (s *Store) ReplaceChunks(ctx context.Context, tenant, documentID string, version int, chunks []ingest.Chunk) error {
	for _, c := range chunks {
		if c.ID == "" {
			return ragqueue.Errorf(ragqueue.EINVALID, "chunk %d of document %s has no id", c.Index, documentID)
		}
		if !isText(c.Text) || !isText(c.Section) {
			return ragqueue.Errorf(ragqueue.EINVALID, "chunk %d of document %s is not valid UTF-8 text", c.Index, documentID)
		}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: replace chunks of %s: %w", documentID, err)
	}
	defer func() { _ = tx.Rollback() }()

	var one int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM documents WHERE tenant = ? AND id = ? AND version = ?`,
		tenant, documentID, version).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Errorf(ragqueue.ENOTFOUND, "document %s version %d not found", documentID, version)
	} else if err != nil {
		return fmt.Errorf("sqlite: replace chunks of %s: %w", documentID, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE document_id = ? AND version = ?`,
		documentID, version); err != nil {
		return fmt.Errorf("sqlite: replace chunks of %s: delete: %w", documentID, err)
	}
	fullBatch := chunkInsertSQL(chunkBatch)
	args := make([]any, 0, chunkBatch*8)
	for start := 0; start < len(chunks); start += chunkBatch {
		batch := chunks[start:min(start+chunkBatch, len(chunks))]
		q := fullBatch
		if len(batch) < chunkBatch {
			q = chunkInsertSQL(len(batch))
		}
		args = args[:0]
		for _, c := range batch {
			args = append(args, c.ID, tenant, documentID, version, c.Index, c.Text, c.Page, c.Section)
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("sqlite: replace chunks of %s: insert: %w", documentID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: replace chunks of %s: commit: %w", documentID, err)
	}
	return nil
}

func chunkInsertSQL(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO chunks (` + chunkColumns + `) VALUES `)
	for i := 0; i < rows; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?)`)
	}
	return b.String()
}

// ListChunks implements jobs.ChunkStore: the chunks of one document version,
// by index; empty (not an error) when there are none or the document is
// another tenant's.
func (s *Store) ListChunks(ctx context.Context, tenant, documentID string, version int) ([]ingest.Chunk, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+chunkColumns+` FROM chunks
		WHERE tenant = ? AND document_id = ? AND version = ? ORDER BY idx`, tenant, documentID, version)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list chunks of %s: %w", documentID, err)
	}
	defer rows.Close()
	chunks := []ingest.Chunk{}
	for rows.Next() {
		var (
			c              ingest.Chunk
			ver, idx, page int64
		)
		if err := rows.Scan(&c.ID, &c.Tenant, &c.DocumentID, &ver, &idx, &c.Text, &page, &c.Section); err != nil {
			return nil, fmt.Errorf("sqlite: list chunks of %s: %w", documentID, err)
		}
		c.Version, c.Index, c.Page = int(ver), int(idx), int(page)
		chunks = append(chunks, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list chunks of %s: %w", documentID, err)
	}
	return chunks, nil
}

// ---- jobs ----

const jobColumns = `id, tenant, type, state, progress, result, error, created_at, updated_at, completed_at`

// CreateJob implements jobs.JobStore. It is idempotent: when a job with j.ID
// exists it returns nil and changes nothing. An empty State becomes queued;
// zero times become now.
func (s *Store) CreateJob(ctx context.Context, j jobs.Job) error {
	if j.ID == "" || j.Tenant == "" {
		return ragqueue.Errorf(ragqueue.EINVALID, "job id and tenant are required")
	}
	if j.State == "" {
		j.State = jobs.StateQueued
	}
	progress, err := jsonValue(j.Progress, "job progress")
	if err != nil {
		return err
	}
	result, err := jsonValue(j.Result, "job result")
	if err != nil {
		return err
	}
	now := now()
	if j.CreatedAt.IsZero() {
		j.CreatedAt = now
	}
	if j.UpdatedAt.IsZero() {
		j.UpdatedAt = j.CreatedAt
	}
	var completed any
	if j.CompletedAt != nil {
		completed = nanos(*j.CompletedAt)
	} else if j.State.Terminal() {
		completed = nanos(now)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO jobs (`+jobColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		j.ID, j.Tenant, j.Type, string(j.State), progress, result, j.Error,
		nanos(j.CreatedAt), nanos(j.UpdatedAt), completed)
	if err != nil {
		return fmt.Errorf("sqlite: create job %s: %w", j.ID, err)
	}
	return nil
}

// GetJob implements jobs.JobStore.
func (s *Store) GetJob(ctx context.Context, tenant, id string) (jobs.Job, error) {
	row := s.rdb.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM jobs WHERE tenant = ? AND id = ?`, tenant, id)
	j, err := scanJob(row)
	if errors.Is(err, sql.ErrNoRows) {
		return jobs.Job{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "job %s not found", id)
	} else if err != nil {
		return jobs.Job{}, fmt.Errorf("sqlite: get job %s: %w", id, err)
	}
	return j, nil
}

// UpdateJob implements jobs.JobStore. A terminal State sets completed_at
// (keeping an earlier completion time); a non-terminal one clears it. Empty
// Progress or Result are left alone; a JSON null clears the field.
func (s *Store) UpdateJob(ctx context.Context, tenant, id string, u jobs.JobUpdate) error {
	now := now()
	sets := []string{"updated_at = ?"}
	args := []any{nanos(now)}
	if u.State != nil {
		if *u.State == "" {
			return ragqueue.Errorf(ragqueue.EINVALID, "job state must not be empty")
		}
		sets = append(sets, "state = ?")
		args = append(args, string(*u.State))
		if u.State.Terminal() {
			sets = append(sets, "completed_at = COALESCE(completed_at, ?)")
			args = append(args, nanos(now))
		} else {
			sets = append(sets, "completed_at = NULL")
		}
	}
	if len(u.Progress) > 0 {
		v, err := jsonValue(u.Progress, "job progress")
		if err != nil {
			return err
		}
		sets = append(sets, "progress = ?")
		args = append(args, v)
	}
	if len(u.Result) > 0 {
		v, err := jsonValue(u.Result, "job result")
		if err != nil {
			return err
		}
		sets = append(sets, "result = ?")
		args = append(args, v)
	}
	if u.Error != nil {
		sets = append(sets, "error = ?")
		args = append(args, *u.Error)
	}
	args = append(args, tenant, id)
	res, err := s.db.ExecContext(ctx, `UPDATE jobs SET `+strings.Join(sets, ", ")+
		` WHERE tenant = ? AND id = ?`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: update job %s: %w", id, err)
	}
	return mustAffect(res, "job %s not found", id)
}

// UnfinishedJobs implements jobs.JobStore. limit <= 0 means 100.
func (s *Store) UnfinishedJobs(ctx context.Context, limit int) ([]jobs.Job, error) {
	if limit <= 0 {
		limit = defaultUnfinishedLimit
	}
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE state NOT IN ('succeeded', 'failed', 'canceled') ORDER BY created_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unfinished jobs: %w", err)
	}
	defer rows.Close()
	list := []jobs.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: unfinished jobs: %w", err)
		}
		list = append(list, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: unfinished jobs: %w", err)
	}
	return list, nil
}

func scanJob(sc scanner) (jobs.Job, error) {
	var (
		j                jobs.Job
		state            string
		progress, result sql.NullString
		created, updated int64
		completed        sql.NullInt64
	)
	err := sc.Scan(&j.ID, &j.Tenant, &j.Type, &state, &progress, &result, &j.Error, &created, &updated, &completed)
	if err != nil {
		return jobs.Job{}, err
	}
	j.State = jobs.State(state)
	if progress.Valid {
		j.Progress = json.RawMessage(progress.String)
	}
	if result.Valid {
		j.Result = json.RawMessage(result.String)
	}
	j.CreatedAt, j.UpdatedAt = fromNanos(created), fromNanos(updated)
	if completed.Valid {
		t := fromNanos(completed.Int64)
		j.CompletedAt = &t
	}
	return j, nil
}

// ---- keys ----

const keyColumns = `id, tenant, role, hash, prefix, created_at`

// CreateKey stores k. A zero CreatedAt becomes now. A duplicate ID or hash
// is ECONFLICT.
func (s *Store) CreateKey(ctx context.Context, k storage.Key) error {
	if k.ID == "" || k.Tenant == "" || len(k.Hash) == 0 {
		return ragqueue.Errorf(ragqueue.EINVALID, "key id, tenant and hash are required")
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now()
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO api_keys (`+keyColumns+`) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Tenant, k.Role, k.Hash, k.Prefix, nanos(k.CreatedAt))
	if isConstraint(err) {
		return ragqueue.Errorf(ragqueue.ECONFLICT, "key %s already exists", k.ID)
	} else if err != nil {
		return fmt.Errorf("sqlite: create key %s: %w", k.ID, err)
	}
	return nil
}

// KeyByHash returns the key whose secret hashes to hash, ENOTFOUND if none.
func (s *Store) KeyByHash(ctx context.Context, hash []byte) (storage.Key, error) {
	row := s.rdb.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE hash = ?`, hash)
	k, err := scanKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return storage.Key{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "key not found")
	} else if err != nil {
		return storage.Key{}, fmt.Errorf("sqlite: key by hash: %w", err)
	}
	return k, nil
}

// ListKeys returns every tenant's keys, oldest first.
func (s *Store) ListKeys(ctx context.Context) ([]storage.Key, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list keys: %w", err)
	}
	defer rows.Close()
	keys := []storage.Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list keys: %w", err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list keys: %w", err)
	}
	return keys, nil
}

// DeleteKey removes a key, ENOTFOUND if there is none with that ID.
func (s *Store) DeleteKey(ctx context.Context, id string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM api_keys WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete key %s: %w", id, err)
	}
	return mustAffect(res, "key %s not found", id)
}

// CountKeys returns how many keys exist across tenants (zero means the
// server still needs its first admin key).
func (s *Store) CountKeys(ctx context.Context) (int, error) {
	var n int
	if err := s.rdb.QueryRowContext(ctx, `SELECT count(*) FROM api_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count keys: %w", err)
	}
	return n, nil
}

func scanKey(sc scanner) (storage.Key, error) {
	var (
		k       storage.Key
		created int64
	)
	if err := sc.Scan(&k.ID, &k.Tenant, &k.Role, &k.Hash, &k.Prefix, &created); err != nil {
		return storage.Key{}, err
	}
	k.CreatedAt = fromNanos(created)
	return k, nil
}

// ---- helpers ----

// now is the store's clock: UTC, truncated to the microsecond precision both
// SQLite and PostgreSQL keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func nanos(t time.Time) int64 { return t.Truncate(time.Microsecond).UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// mustAffect turns "no row changed" into ENOTFOUND with the given message.
func mustAffect(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: rows affected: %w", err)
	}
	if n == 0 {
		return ragqueue.Errorf(ragqueue.ENOTFOUND, format, args...)
	}
	return nil
}

func isConstraint(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// jsonValue validates a job's JSON field: nil, empty or null become NULL.
func jsonValue(raw json.RawMessage, what string) (any, error) {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 || bytes.Equal(t, []byte("null")) {
		return nil, nil
	}
	if !json.Valid(t) {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "%s is not valid JSON", what)
	}
	return string(t), nil
}

// isText reports whether s can be stored as text by every adapter: valid
// UTF-8 without NUL bytes.
func isText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
