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

// Search implements retrieval.Index: q's text through BM25 and q's vector,
// when given, through brute-force cosine, both over the tenant's chunks in
// memory, each list up to retrieval.SearchSizes' candidates; fuse ranks
// them, and only the chunks it chooses have their fields read from the
// file.
func (ix *Index) Search(ctx context.Context, q retrieval.Query, fuse retrieval.Fusion) ([]retrieval.Passage, error) {
	if err := storage.CheckQuery(q, ix.dim); err != nil {
		return nil, err
	}
	k, n := retrieval.SearchSizes(q.TopK)

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
		c, err := ix.searchMemory(ctx, q, n, gen)
		if err != nil {
			return nil, err
		}
		out, err := ix.storedPassages(ctx, q.Tenant, fuse(c, k))
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

// storedPassages returns the chosen chunks, in order and with their
// scores, as passages with the fields stored in the file, read in one
// query; a chunk deleted meanwhile is left out.
func (ix *Index) storedPassages(ctx context.Context, tenant string, chosen []retrieval.Candidate) ([]retrieval.Passage, error) {
	if len(chosen) == 0 {
		return nil, nil
	}
	ids := make([]string, len(chosen))
	for i, c := range chosen {
		ids[i] = c.ChunkID
	}
	// By space and id, so that SQLite uses the (space_id, id) index rather
	// than scanning the tenant's rows; the tenant is checked on each row.
	var sb strings.Builder
	sb.WriteString(`SELECT tenant, id, document_id, text, page, title, source FROM index_chunks WHERE space_id = ?`)
	args := appendIn(&sb, []any{ix.sid}, "id", ids)
	rows, err := ix.rdb.QueryContext(ctx, sb.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: search: load passages: %w", err)
	}
	defer rows.Close()
	found := make(map[string]retrieval.Passage, len(ids))
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
	out := make([]retrieval.Passage, 0, len(chosen))
	for _, c := range chosen {
		if p, ok := found[c.ChunkID]; ok {
			p.Score = c.Score
			out = append(out, p)
		}
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
