package sqlite

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"

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
		ix.mu.RLock()
		set := ix.cache[q.Tenant]
		if set != nil && set.gen >= gen {
			hits, err := set.topK(ctx, ix.dim, q.Vector, filter, n)
			ix.mu.RUnlock()
			return hits, err
		}
		ix.mu.RUnlock()
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
	if err := ix.rdb.QueryRowContext(ctx, `SELECT count(*) FROM index_chunks WHERE tenant = ? AND staged = 0`, tenant).Scan(&hint); err != nil {
		return fmt.Errorf("sqlite: load vectors: %w", err)
	}
	rows, err := ix.rdb.QueryContext(ctx, `
		SELECT g.gen, c.id, c.document_id, c.vector
		FROM index_generations g LEFT JOIN index_chunks c ON c.tenant = g.tenant AND c.staged = 0
		WHERE g.tenant = ?`, tenant)
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
	ix.mu.Lock()
	if cur := ix.cache[tenant]; cur == nil || cur.gen < set.gen {
		ix.cache[tenant] = set
	}
	ix.mu.Unlock()
	return nil
}

// applyUpsert brings the cached vectors of each tenant in gens up to date
// after this process committed chunks (the searchable ones only). A cached
// set that was not at the generation just before the commit missed someone
// else's write: it is dropped, and the next search reloads it.
func (ix *Index) applyUpsert(chunks []retrieval.IndexedChunk, gens map[string]int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for tenant, gen := range gens {
		set := ix.cache[tenant]
		if set == nil {
			continue
		}
		if set.gen != gen-1 {
			delete(ix.cache, tenant)
			continue
		}
		for i := range chunks {
			if chunks[i].Tenant == tenant {
				set.put(ix.dim, &chunks[i])
			}
		}
		set.gen = gen
	}
}

// applyDelete removes documentID's vectors from tenant's cached set after
// this process committed the delete, or drops a set that was stale.
func (ix *Index) applyDelete(tenant, documentID string, gen int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	set := ix.cache[tenant]
	if set == nil {
		return
	}
	if set.gen != gen-1 {
		delete(ix.cache, tenant)
		return
	}
	// Backwards, so that a slot moved by a swap-remove is never one still
	// to be visited.
	for s := len(set.ids) - 1; s >= 0; s-- {
		if set.docs[s] == documentID {
			set.remove(ix.dim, s)
		}
	}
	set.gen = gen
}

// applyPublish updates tenant's cached set after this process committed a
// version switch: removed chunk IDs go, published chunks come in.
func (ix *Index) applyPublish(tenant string, removed []string, published []retrieval.IndexedChunk, gen int64) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	set := ix.cache[tenant]
	if set == nil {
		return
	}
	if set.gen != gen-1 {
		delete(ix.cache, tenant)
		return
	}
	for _, id := range removed {
		if s, ok := set.slot[id]; ok {
			set.remove(ix.dim, s)
		}
	}
	for i := range published {
		set.put(ix.dim, &published[i])
	}
	set.gen = gen
}

// put adds c's vector to the set, or replaces the one stored under its ID.
func (set *denseSet) put(dim int, c *retrieval.IndexedChunk) {
	if s, ok := set.slot[c.ID]; ok {
		copy(set.vecs[s*dim:(s+1)*dim], c.Vector)
		set.docs[s] = c.DocumentID
		return
	}
	set.slot[c.ID] = len(set.ids)
	set.ids = append(set.ids, c.ID)
	set.docs = append(set.docs, c.DocumentID)
	set.vecs = append(set.vecs, c.Vector...)
}

// remove swap-removes slot s: the last slot moves into it.
func (set *denseSet) remove(dim, s int) {
	last := len(set.ids) - 1
	delete(set.slot, set.ids[s])
	if s != last {
		set.ids[s], set.docs[s] = set.ids[last], set.docs[last]
		copy(set.vecs[s*dim:(s+1)*dim], set.vecs[last*dim:(last+1)*dim])
		set.slot[set.ids[s]] = s
	}
	set.ids[last], set.docs[last] = "", ""
	set.ids, set.docs = set.ids[:last], set.docs[:last]
	set.vecs = set.vecs[:last*dim]
}

// denseHit is a candidate of dense search.
type denseHit struct {
	score float32
	slot  int
}

// topK scans every vector of the set (those of filter's documents only,
// when filter is set) and keeps the n best in a min-heap. The caller holds
// the read lock.
func (set *denseSet) topK(ctx context.Context, dim int, query []float32, filter map[string]struct{}, n int) ([]retrieval.Passage, error) {
	h := make([]denseHit, 0, n)
	// worse orders hits for the heap: lower score first, then later chunk
	// ID, so that equal scores rank deterministically.
	worse := func(a, b denseHit) bool {
		if a.score != b.score {
			return a.score < b.score
		}
		return set.ids[a.slot] > set.ids[b.slot]
	}
	for s := range set.ids {
		if s%8192 == 8191 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("sqlite: dense search: %w", err)
			}
		}
		if filter != nil {
			if _, ok := filter[set.docs[s]]; !ok {
				continue
			}
		}
		hit := denseHit{score: retrieval.Dot(query, set.vecs[s*dim:(s+1)*dim]), slot: s}
		switch {
		case len(h) < n:
			h = append(h, hit)
			siftUp(h, len(h)-1, worse)
		case worse(h[0], hit):
			h[0] = hit
			siftDown(h, 0, worse)
		}
	}
	slices.SortFunc(h, func(a, b denseHit) int {
		if worse(a, b) {
			return 1
		}
		if worse(b, a) {
			return -1
		}
		return cmp.Compare(a.slot, b.slot)
	})
	out := make([]retrieval.Passage, len(h))
	for i, hit := range h {
		out[i] = retrieval.Passage{ChunkID: set.ids[hit.slot], DocumentID: set.docs[hit.slot], Score: float64(hit.score)}
	}
	return out, nil
}

// siftUp and siftDown maintain a min-heap under less (the root is the
// worst hit kept), without container/heap's interface calls.
func siftUp(h []denseHit, i int, less func(a, b denseHit) bool) {
	for i > 0 {
		p := (i - 1) / 2
		if !less(h[i], h[p]) {
			return
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func siftDown(h []denseHit, i int, less func(a, b denseHit) bool) {
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		m := l
		if r := l + 1; r < len(h) && less(h[r], h[l]) {
			m = r
		}
		if !less(h[m], h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
