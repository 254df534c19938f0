package sqlite

import (
	"sync"
	"sync/atomic"

	"github.com/ragqueue/ragqueue/retrieval"
)

// defaultCacheBytes is the memory one space's index keeps for search when
// SpacesOptions leaves it unset: roughly 800k chunks of 384 dimensions,
// vectors and BM25 index together.
const defaultCacheBytes = 2 << 30

// tenantCache holds the tenants' in-memory sets (vectors and BM25 index) of
// one index within a memory budget. A set is evicted, least recently searched first, when the total
// exceeds the budget; the set just loaded or written always stays, so one
// tenant larger than the budget is still searched from memory (the budget
// is soft by that one set). An evicted tenant is reloaded from the file by
// its next search.
type tenantCache struct {
	mu    sync.RWMutex
	sets  map[string]*tenantSet // tenant → vectors; guarded by mu
	limit int64
	clock atomic.Int64 // ticks once per search; tenantSet.used holds a tick
}

func newDenseCache(limit int64) *tenantCache {
	if limit <= 0 {
		limit = defaultCacheBytes
	}
	return &tenantCache{sets: make(map[string]*tenantSet), limit: limit}
}

// withSet runs fn on tenant's set under the read lock when the cached set is
// at least at generation gen, and reports whether it did.
func (c *tenantCache) withSet(tenant string, gen int64, fn func(*tenantSet)) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	set := c.sets[tenant]
	if set == nil || set.gen < gen {
		return false
	}
	set.used.Store(c.clock.Add(1))
	fn(set)
	return true
}

// install caches set for tenant unless a copy at least as new is there.
func (c *tenantCache) install(tenant string, set *tenantSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cur := c.sets[tenant]; cur != nil && cur.gen >= set.gen {
		return
	}
	set.used.Store(c.clock.Add(1))
	c.sets[tenant] = set
	c.evictLocked(tenant)
}

// evictLocked drops least recently used sets other than keep's until the
// total fits the budget. The caller holds the write lock.
func (c *tenantCache) evictLocked(keep string) {
	var total int64
	for _, set := range c.sets {
		total += set.bytes()
	}
	for total > c.limit && len(c.sets) > 1 {
		victim, oldest := "", int64(0)
		for tenant, set := range c.sets {
			if u := set.used.Load(); tenant != keep && (victim == "" || u < oldest) {
				victim, oldest = tenant, u
			}
		}
		total -= c.sets[victim].bytes()
		delete(c.sets, victim)
	}
}

// clear drops every set (a dropped space).
func (c *tenantCache) clear() {
	c.mu.Lock()
	clear(c.sets)
	c.mu.Unlock()
}

// nextLocked returns tenant's cached set if a commit at generation gen
// follows on from it; a set that was not at gen-1 missed someone else's
// write and is dropped (nil is returned, as when none is cached). The caller
// holds the write lock.
func (c *tenantCache) nextLocked(tenant string, gen int64) *tenantSet {
	set := c.sets[tenant]
	if set != nil && set.gen != gen-1 {
		delete(c.sets, tenant)
		return nil
	}
	return set
}

// applyUpsert brings the cached vectors of each tenant in gens up to date
// after this process committed chunks (the searchable ones only). A cached
// set that was not at the generation just before the commit missed someone
// else's write: it is dropped, and the next search reloads it.
func (c *tenantCache) applyUpsert(dim int, chunks []retrieval.IndexedChunk, gens map[string]int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for tenant, gen := range gens {
		set := c.nextLocked(tenant, gen)
		if set == nil {
			continue
		}
		for i := range chunks {
			if chunks[i].Tenant == tenant {
				set.put(dim, &chunks[i])
			}
		}
		set.shrink(dim) // updates in place leave dead postings too
		set.gen = gen
		c.evictLocked(tenant)
	}
}

// applyDelete removes documentID's vectors from tenant's cached set after
// this process committed the delete, or drops a set that was stale.
func (c *tenantCache) applyDelete(dim int, tenant, documentID string, gen int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.nextLocked(tenant, gen)
	if set == nil {
		return
	}
	// Backwards, so that a slot moved by a swap-remove is never one still
	// to be visited.
	for s := len(set.ids) - 1; s >= 0; s-- {
		if set.docs[s] == documentID {
			set.remove(dim, s)
		}
	}
	set.shrink(dim)
	set.gen = gen
}

// applyPublish updates tenant's cached set after this process committed a
// version switch: removed chunk IDs go, published chunks come in.
func (c *tenantCache) applyPublish(dim int, tenant string, removed []string, published []retrieval.IndexedChunk, gen int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	set := c.nextLocked(tenant, gen)
	if set == nil {
		return
	}
	set.apply(dim, removed, published)
	set.gen = gen
	c.evictLocked(tenant)
}

// apply removes the chunk IDs removed, then puts the chunks changed: a
// chunk removed and written again since is in both.
func (set *tenantSet) apply(dim int, removed []string, changed []retrieval.IndexedChunk) {
	for _, id := range removed {
		if s, ok := set.slot[id]; ok {
			set.remove(dim, s)
		}
	}
	for i := range changed {
		set.put(dim, &changed[i])
	}
	set.shrink(dim)
}

// put adds c (vector and text) to the set, or replaces the chunk stored
// under its ID.
func (set *tenantSet) put(dim int, c *retrieval.IndexedChunk) {
	if s, ok := set.slot[c.ID]; ok {
		copy(set.vecs[s*dim:(s+1)*dim], c.Vector)
		set.docs[s] = c.DocumentID
		set.lex.drop(s)
		set.lex.add(s, c.Text)
		return
	}
	s := len(set.ids)
	set.slot[c.ID] = s
	set.ids = append(set.ids, c.ID)
	set.docs = append(set.docs, c.DocumentID)
	set.vecs = append(set.vecs, c.Vector...)
	set.lex.add(s, c.Text)
}

// remove swap-removes slot s: the last slot moves into it.
func (set *tenantSet) remove(dim, s int) {
	last := len(set.ids) - 1
	delete(set.slot, set.ids[s])
	set.lex.drop(s)
	if s != last {
		set.ids[s], set.docs[s] = set.ids[last], set.docs[last]
		copy(set.vecs[s*dim:(s+1)*dim], set.vecs[last*dim:(last+1)*dim])
		set.slot[set.ids[s]] = s
		set.lex.move(last, s)
	}
	set.ids[last], set.docs[last] = "", ""
	set.ids, set.docs = set.ids[:last], set.docs[:last]
	set.vecs = set.vecs[:last*dim]
	set.lex.truncate(last)
}

// shrink gives memory back after large deletes: postings of removed rows
// go once they are half the lists, and a slab less than a quarter full is
// copied into one of the right size.
func (set *tenantSet) shrink(dim int) {
	set.lex.compact()
	if cap(set.ids) < 1024 || len(set.ids) >= cap(set.ids)/4 {
		return
	}
	set.ids = append([]string(nil), set.ids...)
	set.docs = append([]string(nil), set.docs...)
	set.vecs = append(make([]float32, 0, len(set.ids)*dim), set.vecs...)
}
