package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

// tenantSet is one tenant's searchable chunks in memory: the vectors, laid
// out contiguously so that brute-force search streams through memory, and
// the lexicon for BM25. gen is the tenant generation the set reflects: it is
// valid for a search while the database's generation is not newer.
type tenantSet struct {
	gen  int64
	ids  []string       // chunk ID per slot
	docs []string       // document ID per slot
	vecs []float32      // slot i is vecs[i*dim : (i+1)*dim]
	slot map[string]int // chunk ID → slot
	lex  *lexicon
	used atomic.Int64 // tenantCache.clock at the last search: eviction order
}

// bytes estimates the memory the set holds: the vector slab, the lexicon
// and, per slot, two string headers, a map entry and the ID strings.
func (set *tenantSet) bytes() int64 {
	return int64(cap(set.vecs))*4 + int64(len(set.ids))*96 + set.lex.bytes()
}

// maxCacheAttempts bounds how often one search re-reads a tenant's vectors
// when concurrent writes keep making the fresh copy stale.
const maxCacheAttempts = 5

// searchMemory runs the lexical (q.Text) and dense (q.Vector) retrievers
// over q.Tenant's chunks in memory, each returning up to n candidates best
// first. Both read one copy of the tenant, so they see the same state. gen
// is the tenant's generation in the database: the tenant is reloaded when
// this process's copy is older.
func (ix *Index) searchMemory(ctx context.Context, q retrieval.Query, n int, gen int64) (c retrieval.Candidates, err error) {
	if gen == 0 {
		return c, nil // never written
	}
	var filter map[string]struct{}
	if len(q.DocumentIDs) > 0 {
		filter = make(map[string]struct{}, len(q.DocumentIDs))
		for _, id := range q.DocumentIDs {
			filter[id] = struct{}{}
		}
	}
	for range maxCacheAttempts {
		if ix.cache.withSet(q.Tenant, gen, func(set *tenantSet) {
			if q.Text != "" {
				scores := ix.scratch(len(set.ids))
				c.Lexical = set.candidates(set.lexicalTopK(q.Text, filter, n, *scores))
				ix.scores.Put(scores)
			}
			if len(q.Vector) > 0 {
				c.Dense, err = set.topK(ctx, ix.dim, q.Vector, filter, n)
			}
		}) {
			return c, err
		}
		// Concurrent searches of one tenant share one reload, which must
		// not fail for all of them because the one that started it gave up.
		if _, err, _ := ix.loads.Do(q.Tenant, func() (any, error) {
			return nil, ix.reload(context.WithoutCancel(ctx), q.Tenant)
		}); err != nil {
			return retrieval.Candidates{}, err
		}
	}
	return retrieval.Candidates{}, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "sqlite: search: tenant chunks keep changing; retry")
}

// scratch returns a zeroed score buffer of at least n entries from the
// pool; lexicalTopK leaves it zeroed for the next search.
func (ix *Index) scratch(n int) *[]float32 {
	p, _ := ix.scores.Get().(*[]float32)
	if p == nil || cap(*p) < n {
		buf := make([]float32, n)
		return &buf
	}
	*p = (*p)[:n]
	return p
}

// reload brings this process's copy of tenant up to date: incrementally
// when it holds an older copy (refresh), else by reading the tenant's
// generation and chunks in one statement (one consistent snapshot) and
// installing them unless the cache already holds a copy at least as new.
func (ix *Index) reload(ctx context.Context, tenant string) error {
	if base, baseGen := ix.cache.current(tenant); base != nil {
		if done, err := ix.refresh(ctx, tenant, base, baseGen); err != nil || done {
			return err
		}
	}
	// A size hint, so the slab is allocated once instead of grown by
	// copying: it may be off if a write lands in between, which only costs
	// one regrowth.
	var hint int
	if err := ix.rdb.QueryRowContext(ctx, `SELECT count(*) FROM index_chunks WHERE space_id = ? AND tenant = ? AND staged = 0`,
		ix.sid, tenant).Scan(&hint); err != nil {
		return fmt.Errorf("sqlite: load vectors: %w", err)
	}
	rows, err := ix.rdb.QueryContext(ctx, `
		SELECT g.gen, c.id, c.document_id, c.vector, c.text
		FROM index_generations g LEFT JOIN index_chunks c ON c.space_id = g.space_id AND c.tenant = g.tenant AND c.staged = 0
		WHERE g.space_id = ? AND g.tenant = ?`, ix.sid, tenant)
	if err != nil {
		return fmt.Errorf("sqlite: load vectors: %w", err)
	}
	defer rows.Close()
	set := &tenantSet{
		ids:  make([]string, 0, hint),
		docs: make([]string, 0, hint),
		vecs: make([]float32, 0, hint*ix.dim),
		slot: make(map[string]int, hint),
		lex:  newLexicon(hint),
	}
	var blob []byte
	for rows.Next() {
		var id, doc, text sql.NullString
		if err := rows.Scan(&set.gen, &id, &doc, &blob, &text); err != nil {
			return fmt.Errorf("sqlite: load vectors: %w", err)
		}
		if !id.Valid {
			continue // the tenant exists but holds no chunks
		}
		if err := ix.checkVector(id.String, blob); err != nil {
			return fmt.Errorf("sqlite: load vectors: %w", err)
		}
		set.lex.add(len(set.ids), text.String)
		set.slot[id.String] = len(set.ids)
		set.ids = append(set.ids, id.String)
		set.docs = append(set.docs, doc.String)
		set.vecs = storage.AppendDecodedVector(set.vecs, blob)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load vectors: %w", err)
	}
	ix.cache.install(tenant, set)
	return nil
}

// checkVector refuses a stored vector that is not dim float32s: one would
// shift every later slot of a set's vector slab.
func (ix *Index) checkVector(chunkID string, blob []byte) error {
	if len(blob) != 4*ix.dim {
		return fmt.Errorf("chunk %s has %d bytes of vector, want %d", chunkID, len(blob), 4*ix.dim)
	}
	return nil
}
