package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const chunkColumns = `id, tenant, document_id, version, idx, text, page, section`

// chunkColumnList is chunkColumns as Dialect.Copy takes them.
func chunkColumnList() []string {
	return []string{"id", "tenant", "document_id", "version", "idx", "text", "page", "section"}
}

// chunkBatch rows per multi-row INSERT: 8 parameters each keeps a batch far
// below SQLite's 32766-parameter limit (and PostgreSQL's 65535).
const chunkBatch = 200

// ReplaceChunks implements ragqueue.ChunkStore: in one transaction it deletes the
// chunks of (documentID, version) and inserts chunks, with the dialect's
// Copy or in multi-row batches. The chunks' own Tenant, DocumentID and
// Version fields are ignored in favour of the arguments. The document
// version must exist in tenant (ENOTFOUND). Text and Section must be valid
// UTF-8 without NUL bytes (EINVALID), which PostgreSQL cannot store; both
// adapters refuse them alike.
func (s *Store) ReplaceChunks(ctx context.Context, tenant, documentID string, version, pages int, chunks []ragqueue.Chunk) error {
	if err := storage.CheckChunks(documentID, chunks); err != nil {
		return err
	}
	tx, err := s.w.Begin(ctx)
	if err != nil {
		return s.errorf("replace chunks of %s: %w", documentID, err)
	}
	defer func() { _ = tx.Rollback() }()

	// Updating the document row's counts first also locks it, which
	// serialises concurrent replacements of its chunks (a job and its
	// retry) instead of letting them collide.
	res, err := tx.Exec(ctx, `UPDATE documents SET pages = ?, chunks = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ?`, pages, len(chunks), s.d.time(now()), tenant, documentID, version)
	if err != nil {
		return s.errorf("replace chunks of %s: counts: %w", documentID, err)
	}
	if err := s.mustAffect(res, "document %s version %d not found", documentID, version); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM chunks WHERE document_id = ? AND version = ?`,
		documentID, version); err != nil {
		return s.errorf("replace chunks of %s: delete: %w", documentID, err)
	}
	row := func(dst []any, i int) []any {
		c := chunks[i]
		return append(dst, c.ID, tenant, documentID, version, c.Index, c.Text, c.Page, c.Section)
	}
	if err := s.insertChunks(ctx, tx, len(chunks), row); err != nil {
		return s.errorf("replace chunks of %s: %w", documentID, err)
	}
	if err := tx.Commit(); err != nil {
		return s.errorf("replace chunks of %s: commit: %w", documentID, err)
	}
	return nil
}

// insertChunks inserts n chunk rows with the dialect's Copy, or else in
// multi-row INSERTs of chunkBatch rows.
func (s *Store) insertChunks(ctx context.Context, tx *Tx, n int, row func(dst []any, i int) []any) error {
	if n == 0 {
		return nil
	}
	if s.d.Copy != nil {
		if err := s.d.Copy(ctx, tx, "chunks", chunkColumnList(), n, row); err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		return nil
	}
	// Sized to the rows at hand: most documents have a few chunks, and the
	// slice escapes to the heap through row.
	args := make([]any, 0, min(n, chunkBatch)*8)
	for start := 0; start < n; start += chunkBatch {
		end := min(start+chunkBatch, n)
		args = args[:0]
		for i := start; i < end; i++ {
			args = row(args, i)
		}
		// Full batches share one SQL text, which the connection's statement
		// cache keeps prepared; only a last, shorter batch differs.
		if _, err := tx.Exec(ctx, chunkInsertSQL(end-start), args...); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
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

// ListChunks implements ragqueue.ChunkStore: the chunks of one document version,
// by index; empty (not an error) when there are none or the document is
// another tenant's.
func (s *Store) ListChunks(ctx context.Context, tenant, documentID string, version int) ([]ragqueue.Chunk, error) {
	chunks, err := list(ctx, s.r, scanChunk, `SELECT `+chunkColumns+` FROM chunks
		WHERE tenant = ? AND document_id = ? AND version = ? ORDER BY idx`, tenant, documentID, version)
	if err != nil {
		return nil, s.errorf("list chunks of %s: %w", documentID, err)
	}
	return chunks, nil
}

// scanChunk reads one row of chunkColumns.
func scanChunk(sc scanner) (ragqueue.Chunk, error) {
	var (
		c              ragqueue.Chunk
		ver, idx, page int64
	)
	if err := sc.Scan(&c.ID, &c.Tenant, &c.DocumentID, &ver, &idx, &c.Text, &page, &c.Section); err != nil {
		return ragqueue.Chunk{}, err
	}
	c.Version, c.Index, c.Page = int(ver), int(idx), int(page)
	return c, nil
}
