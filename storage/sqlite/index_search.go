package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

// maxSearchAttempts bounds how often one search starts again because a
// write to the tenant committed while it ran.
const maxSearchAttempts = 3

// Search runs q's text through BM25 and q's vector, when given, through
// brute-force cosine, both over the tenant's chunks in memory, and fuses
// the two by retrieval.Fuse. TopK defaults to 5 and is capped at 100.
func (ix *Index) Search(ctx context.Context, q retrieval.Query) ([]retrieval.Passage, error) {
	if err := storage.CheckQuery(q, ix.dim); err != nil {
		return nil, err
	}
	topK, n := retrieval.SearchSizes(q.TopK)

	// Both retrievers read one copy of the tenant, but the passages' fields
	// come from the file afterwards: a version switch (or any other visible
	// write) committing in between could mix two versions of a document in
	// one answer. The generation, read before and after, tells: when it
	// moved, search again (and, under a storm of writes, settle for the
	// last try).
	for attempt := 1; ; attempt++ {
		gen, err := ix.generation(ctx, q.Tenant)
		if err != nil {
			return nil, err
		}
		lexical, dense, err := ix.searchMemory(ctx, q, n, gen)
		if err != nil {
			return nil, err
		}
		fused := retrieval.Fuse(retrieval.Candidates{Lexical: lexical, Dense: dense}, topK)
		out, err := ix.fillPassages(ctx, q.Tenant, fused)
		if err != nil {
			return nil, err
		}
		after, err := ix.generation(ctx, q.Tenant)
		if err != nil {
			return nil, err
		}
		if after == gen || attempt == maxSearchAttempts {
			return out, nil
		}
	}
}

// fillPassages completes the passages (ID and score only) with their stored
// fields, in one query, and drops any whose chunk was deleted meanwhile.
func (ix *Index) fillPassages(ctx context.Context, tenant string, ps []retrieval.Passage) ([]retrieval.Passage, error) {
	var missing []string
	for _, p := range ps {
		missing = append(missing, p.ChunkID)
	}
	if len(missing) == 0 {
		return ps, nil
	}
	// By space and id, so that SQLite uses the (space_id, id) index rather
	// than scanning the tenant's rows; the tenant is checked on each row.
	var sb strings.Builder
	sb.WriteString(`SELECT tenant, id, document_id, text, page, title, source FROM index_chunks WHERE space_id = ?`)
	args := appendIn(&sb, []any{ix.sid}, "id", missing)
	rows, err := ix.rdb.QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search: load passages: %w", err)
	}
	defer rows.Close()
	found := make(map[string]retrieval.Passage, len(missing))
	for rows.Next() {
		var p retrieval.Passage
		var rowTenant string
		if err := rows.Scan(&rowTenant, &p.ChunkID, &p.DocumentID, &p.Text, &p.Page, &p.Title, &p.Source); err != nil {
			return nil, fmt.Errorf("sqlite: search: load passages: %w", err)
		}
		if rowTenant == tenant {
			found[p.ChunkID] = p
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: search: load passages: %w", err)
	}
	out := ps[:0]
	for _, p := range ps {
		f, ok := found[p.ChunkID]
		if !ok {
			continue
		}
		f.Score = p.Score
		out = append(out, f)
	}
	return out, nil
}

// generation reads tenant's generation; 0 means the tenant was never written.
// It runs on every search; the connection's statement cache keeps it
// prepared.
func (ix *Index) generation(ctx context.Context, tenant string) (int64, error) {
	var gen int64
	err := ix.rdb.QueryRowContext(ctx, generationSQL, ix.sid, tenant).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("sqlite: read index generation: %w", err)
	}
	return gen, nil
}
