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

// Candidates implements retrieval.Index: q's text through BM25 and q's
// vector, when given, through brute-force cosine, both over the tenant's
// chunks in memory, each list up to retrieval.SearchSizes' candidates, with
// the passages' fields read from the file.
func (ix *Index) Candidates(ctx context.Context, q retrieval.Query) (retrieval.Candidates, error) {
	if err := storage.CheckQuery(q, ix.dim); err != nil {
		return retrieval.Candidates{}, err
	}
	_, n := retrieval.SearchSizes(q.TopK)

	// Both retrievers read one copy of the tenant, but the passages' fields
	// come from the file afterwards: a version switch (or any other visible
	// write) committing in between could mix two versions of a document in
	// one answer. The generation, read before and after, tells: when it
	// moved, search again (and, under a storm of writes, settle for the
	// last try).
	for attempt := 1; ; attempt++ {
		gen, err := ix.generation(ctx, q.Tenant)
		if err != nil {
			return retrieval.Candidates{}, err
		}
		lexical, dense, err := ix.searchMemory(ctx, q, n, gen)
		if err != nil {
			return retrieval.Candidates{}, err
		}
		found, err := ix.storedPassages(ctx, q.Tenant, lexical, dense)
		if err != nil {
			return retrieval.Candidates{}, err
		}
		after, err := ix.generation(ctx, q.Tenant)
		if err != nil {
			return retrieval.Candidates{}, err
		}
		if after == gen || attempt == maxSearchAttempts {
			return retrieval.Candidates{Lexical: withFields(lexical, found), Dense: withFields(dense, found)}, nil
		}
	}
}

// storedPassages reads the stored fields of the chunks in lists (ID and
// score only), in one query, keyed by chunk ID; a chunk deleted meanwhile
// is absent.
func (ix *Index) storedPassages(ctx context.Context, tenant string, lists ...[]retrieval.Passage) (map[string]retrieval.Passage, error) {
	var ids []string
	seen := make(map[string]struct{})
	for _, l := range lists {
		for _, p := range l {
			if _, dup := seen[p.ChunkID]; !dup {
				seen[p.ChunkID] = struct{}{}
				ids = append(ids, p.ChunkID)
			}
		}
	}
	if len(ids) == 0 {
		return nil, nil
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
	return found, nil
}

// withFields returns the passages of ps (ID and score only) with their
// stored fields from found, keeping their scores and dropping those found
// lacks.
func withFields(ps []retrieval.Passage, found map[string]retrieval.Passage) []retrieval.Passage {
	var out []retrieval.Passage
	for _, p := range ps {
		if f, ok := found[p.ChunkID]; ok {
			f.Score = p.Score
			out = append(out, f)
		}
	}
	return out
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
