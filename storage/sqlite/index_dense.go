package sqlite

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sync/atomic"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// denseSet is one tenant's vectors in memory, laid out contiguously so that
// brute-force search streams through memory. gen is the tenant generation
// the set reflects: it is valid for a search while the database's
// generation is not newer.
type denseSet struct {
	gen  int64
	ids  []string       // chunk ID per slot
	docs []string       // document ID per slot
	vecs []float32      // slot i is vecs[i*dim : (i+1)*dim]
	slot map[string]int // chunk ID → slot
	used atomic.Int64   // denseCache.clock at the last search: eviction order
}

// bytes estimates the memory the set holds: the vector slab plus, per
// slot, two string headers, a map entry and the ID strings.
func (set *denseSet) bytes() int64 {
	return int64(cap(set.vecs))*4 + int64(len(set.ids))*96
}

// tenantKey is the FTS5 token standing for a tenant: a hash, because a
// tenant name may hold characters the tokenizer splits on. The SQL join on
// index_chunks.tenant stays the authority; the token only narrows postings.
func tenantKey(tenant string) string {
	sum := sha256.Sum256([]byte(tenant))
	return "t" + hex.EncodeToString(sum[:12])
}

// maxCacheAttempts bounds how often one search re-reads a tenant's vectors
// when concurrent writes keep making the fresh copy stale.
const maxCacheAttempts = 5

// searchDense returns the n chunks of q.Tenant whose vectors are closest to
// q.Vector (cosine), best first, with ChunkID and DocumentID set. gen is the
// tenant's generation in the database: the tenant's vectors are reloaded
// when this process's copy is older.
func (ix *Index) searchDense(ctx context.Context, q retrieval.Query, n int, gen int64) ([]retrieval.Passage, error) {
	if gen == 0 {
		return nil, nil // never written
	}
	var filter map[string]struct{}
	if len(q.DocumentIDs) > 0 {
		filter = make(map[string]struct{}, len(q.DocumentIDs))
		for _, id := range q.DocumentIDs {
			filter[id] = struct{}{}
		}
	}
	for range maxCacheAttempts {
		var (
			hits []retrieval.Passage
			err  error
		)
		if ix.cache.withSet(q.Tenant, gen, func(set *denseSet) {
			hits, err = set.topK(ctx, ix.dim, q.Vector, filter, n)
		}) {
			return hits, err
		}
		// Concurrent searches of one tenant share one reload, which must
		// not fail for all of them because the one that started it gave up.
		if _, err, _ := ix.loads.Do(q.Tenant, func() (any, error) {
			return nil, ix.reload(context.WithoutCancel(ctx), q.Tenant)
		}); err != nil {
			return nil, err
		}
	}
	return nil, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "sqlite: dense search: tenant vectors keep changing; retry")
}

// reload reads tenant's generation and vectors in one statement (one
// consistent snapshot) and installs them unless the cache already holds a
// copy at least as new.
func (ix *Index) reload(ctx context.Context, tenant string) error {
	// A size hint, so the slab is allocated once instead of grown by
	// copying: it may be off if a write lands in between, which only costs
	// one regrowth.
	var hint int
	if err := ix.rdb.QueryRowContext(ctx, `SELECT count(*) FROM index_chunks WHERE space_id = ? AND tenant = ? AND staged = 0`,
		ix.sid, tenant).Scan(&hint); err != nil {
		return fmt.Errorf("sqlite: load vectors: %w", err)
	}
	rows, err := ix.rdb.QueryContext(ctx, `
		SELECT g.gen, c.id, c.document_id, c.vector
		FROM index_generations g LEFT JOIN index_chunks c ON c.space_id = g.space_id AND c.tenant = g.tenant AND c.staged = 0
		WHERE g.space_id = ? AND g.tenant = ?`, ix.sid, tenant)
	if err != nil {
		return fmt.Errorf("sqlite: load vectors: %w", err)
	}
	defer rows.Close()
	set := &denseSet{
		ids:  make([]string, 0, hint),
		docs: make([]string, 0, hint),
		vecs: make([]float32, 0, hint*ix.dim),
		slot: make(map[string]int, hint),
	}
	var blob []byte
	for rows.Next() {
		var id, doc sql.NullString
		if err := rows.Scan(&set.gen, &id, &doc, &blob); err != nil {
			return fmt.Errorf("sqlite: load vectors: %w", err)
		}
		if !id.Valid {
			continue // the tenant exists but holds no chunks
		}
		if len(blob) != 4*ix.dim {
			return fmt.Errorf("sqlite: load vectors: chunk %s has %d bytes of vector, want %d", id.String, len(blob), 4*ix.dim)
		}
		set.slot[id.String] = len(set.ids)
		set.ids = append(set.ids, id.String)
		set.docs = append(set.docs, doc.String)
		set.vecs = decodeVector(set.vecs, blob)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: load vectors: %w", err)
	}
	ix.cache.install(tenant, set)
	return nil
}
