package sqlite

import (
	"context"
	"fmt"
	"strings"

	"github.com/ragqueue/ragqueue"

	"github.com/ragqueue/ragqueue/storage"
)

const chunkColumns = `id, tenant, document_id, version, idx, text, page, section`

// chunkBatch rows per multi-row INSERT: 8 parameters each keeps a batch far
// below SQLite's 32766-parameter limit.
const chunkBatch = 200

// ReplaceChunks implements ragqueue.ChunkStore: in one transaction it deletes the
// chunks of (documentID, version) and inserts chunks, in multi-row batches.
// The chunks' own Tenant, DocumentID and Version fields are ignored in favour
// of the arguments. The document version must exist in tenant (ENOTFOUND).
// Text and Section must be valid UTF-8 without NUL bytes (EINVALID), which
// PostgreSQL cannot store; both adapters refuse them alike.
func (s *Store) ReplaceChunks(ctx context.Context, tenant, documentID string, version, pages int, chunks []ragqueue.Chunk) error {
	if err := storage.CheckChunks(documentID, chunks); err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: replace chunks of %s: %w", documentID, err)
	}
	defer func() { _ = tx.Rollback() }()

	res, err := tx.ExecContext(ctx, `UPDATE documents SET pages = ?, chunks = ?, updated_at = ?
		WHERE tenant = ? AND id = ? AND version = ?`, pages, len(chunks), nanos(now()), tenant, documentID, version)
	if err != nil {
		return fmt.Errorf("sqlite: replace chunks of %s: counts: %w", documentID, err)
	}
	if err := mustAffect(res, "document %s version %d not found", documentID, version); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE document_id = ? AND version = ?`,
		documentID, version); err != nil {
		return fmt.Errorf("sqlite: replace chunks of %s: delete: %w", documentID, err)
	}
	args := make([]any, 0, chunkBatch*8)
	for start := 0; start < len(chunks); start += chunkBatch {
		batch := chunks[start:min(start+chunkBatch, len(chunks))]
		args = args[:0]
		for _, c := range batch {
			args = append(args, c.ID, tenant, documentID, version, c.Index, c.Text, c.Page, c.Section)
		}
		// Full batches share one SQL text, which the connection's statement
		// cache keeps prepared; only a last, shorter batch differs.
		if _, err := tx.ExecContext(ctx, chunkInsertSQL(len(batch)), args...); err != nil {
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

// ListChunks implements ragqueue.ChunkStore: the chunks of one document version,
// by index; empty (not an error) when there are none or the document is
// another tenant's.
func (s *Store) ListChunks(ctx context.Context, tenant, documentID string, version int) ([]ragqueue.Chunk, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+chunkColumns+` FROM chunks
		WHERE tenant = ? AND document_id = ? AND version = ? ORDER BY idx`, tenant, documentID, version)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list chunks of %s: %w", documentID, err)
	}
	defer rows.Close()
	chunks := []ragqueue.Chunk{}
	for rows.Next() {
		var (
			c              ragqueue.Chunk
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
