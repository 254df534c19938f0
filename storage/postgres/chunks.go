package postgres

import (
	"context"
	"fmt"

	"github.com/ragqueue/ragqueue"

	"github.com/jackc/pgx/v5"

	"github.com/ragqueue/ragqueue/storage"
)

// ReplaceChunks implements ragqueue.ChunkStore: in one transaction it deletes the
// chunks of (documentID, version) and copies chunks in with COPY. The chunks'
// own Tenant, DocumentID and Version fields are ignored in favour of the
// arguments. The document version must exist in tenant (ENOTFOUND).
func (s *Store) ReplaceChunks(ctx context.Context, tenant, documentID string, version, pages int, chunks []ragqueue.Chunk) error {
	if err := storage.CheckChunks(documentID, chunks); err != nil {
		return err
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: replace chunks of %s: %w", documentID, err)
	}
	defer func() { _ = tx.Rollback(ctx) }()

	// Updating the document row's counts first also locks it, which
	// serialises concurrent replacements of its chunks (a job and its
	// retry) instead of letting them collide.
	tag, err := tx.Exec(ctx, `UPDATE documents SET pages = $1, chunks = $2, updated_at = $3
		WHERE tenant = $4 AND id = $5 AND version = $6`, pages, len(chunks), now(), tenant, documentID, version)
	if err != nil {
		return fmt.Errorf("postgres: replace chunks of %s: counts: %w", documentID, err)
	}
	if err := mustAffect(tag, "document %s version %d not found", documentID, version); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `DELETE FROM chunks WHERE document_id = $1 AND version = $2`,
		documentID, version); err != nil {
		return fmt.Errorf("postgres: replace chunks of %s: delete: %w", documentID, err)
	}
	if len(chunks) > 0 {
		src := pgx.CopyFromSlice(len(chunks), func(i int) ([]any, error) {
			c := chunks[i]
			return []any{c.ID, tenant, documentID, version, c.Index, c.Text, c.Page, c.Section}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"chunks"},
			[]string{"id", "tenant", "document_id", "version", "idx", "text", "page", "section"}, src); err != nil {
			return fmt.Errorf("postgres: replace chunks of %s: copy: %w", documentID, err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: replace chunks of %s: commit: %w", documentID, err)
	}
	return nil
}

// ListChunks implements ragqueue.ChunkStore: the chunks of one document version,
// by index; empty (not an error) when there are none or the document is
// another tenant's.
func (s *Store) ListChunks(ctx context.Context, tenant, documentID string, version int) ([]ragqueue.Chunk, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, tenant, document_id, version, idx, text, page, section
		FROM chunks WHERE tenant = $1 AND document_id = $2 AND version = $3 ORDER BY idx`,
		tenant, documentID, version)
	if err != nil {
		return nil, fmt.Errorf("postgres: list chunks of %s: %w", documentID, err)
	}
	defer rows.Close()
	chunks := []ragqueue.Chunk{}
	for rows.Next() {
		var c ragqueue.Chunk
		if err := rows.Scan(&c.ID, &c.Tenant, &c.DocumentID, &c.Version, &c.Index, &c.Text, &c.Page, &c.Section); err != nil {
			return nil, fmt.Errorf("postgres: list chunks of %s: %w", documentID, err)
		}
		chunks = append(chunks, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: list chunks of %s: %w", documentID, err)
	}
	return chunks, nil
}
