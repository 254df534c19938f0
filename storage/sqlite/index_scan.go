package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"

	"github.com/ragqueue/ragqueue/retrieval"
)

// minSlotsPerWorker is the least number of vectors one goroutine of a dense
// scan takes on: below it, starting goroutines costs more than it saves.
const minSlotsPerWorker = 16 << 10

// denseHit is a candidate of dense search.
type denseHit struct {
	score float32
	slot  int
}

// queryScorer scores stored vectors against one query. A query with few
// non-zero coordinates (the hash embedder's are: a short question touches a
// few dozen of 384) is scored over those coordinates only, which is exact
// and several times less arithmetic than a full dot product.
type queryScorer struct {
	dense []float32
	idx   []int32 // non-zero coordinates, when sparse
	val   []float32
}

func newQueryScorer(q []float32) *queryScorer {
	nz := 0
	for _, x := range q {
		if x != 0 {
			nz++
		}
	}
	sc := &queryScorer{dense: q}
	if nz > len(q)/4 {
		return sc
	}
	sc.idx, sc.val = make([]int32, 0, nz), make([]float32, 0, nz)
	for i, x := range q {
		if x != 0 {
			sc.idx = append(sc.idx, int32(i))
			sc.val = append(sc.val, x)
		}
	}
	return sc
}

// score returns the dot product of the query with v.
func (sc *queryScorer) score(v []float32) float32 {
	if sc.idx == nil {
		return retrieval.Dot(sc.dense, v)
	}
	var s0, s1 float32
	idx, val := sc.idx, sc.val[:len(sc.idx)]
	i := 0
	for ; i+2 <= len(idx); i += 2 {
		s0 += val[i] * v[idx[i]]
		s1 += val[i+1] * v[idx[i+1]]
	}
	if i < len(idx) {
		s0 += val[i] * v[idx[i]]
	}
	return s0 + s1
}

// topK scans every vector of the set (those of filter's documents only,
// when filter is set) and returns the n best, best first. Large sets are
// split across GOMAXPROCS goroutines, each keeping its own heap; the
// partial results merge into the same ranking one goroutine would give.
// The caller holds the cache's read lock.
func (set *tenantSet) topK(ctx context.Context, dim int, query []float32, filter map[string]struct{}, n int) ([]retrieval.Candidate, error) {
	sc := newQueryScorer(query)
	total := len(set.ids)
	workers := max(1, min(runtime.GOMAXPROCS(0), total/minSlotsPerWorker))
	parts := make([][]denseHit, workers)
	errs := make([]error, workers)
	if workers == 1 {
		parts[0], errs[0] = set.scan(ctx, dim, sc, filter, n, 0, total)
	} else {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				parts[w], errs[w] = set.scan(ctx, dim, sc, filter, n, w*total/workers, (w+1)*total/workers)
			})
		}
		wg.Wait()
	}
	var hits []denseHit
	for w := range workers {
		if errs[w] != nil {
			return nil, errs[w]
		}
		hits = append(hits, parts[w]...)
	}
	slices.SortFunc(hits, set.best)
	return set.candidates(hits[:min(n, len(hits))]), nil
}

// candidates turns hits into the candidates they are.
func (set *tenantSet) candidates(hits []denseHit) []retrieval.Candidate {
	if len(hits) == 0 {
		return nil
	}
	out := make([]retrieval.Candidate, len(hits))
	for i, hit := range hits {
		out[i] = retrieval.Candidate{ChunkID: set.ids[hit.slot], DocumentID: set.docs[hit.slot], Score: float64(hit.score)}
	}
	return out
}

// worse orders hits for the heap: lower score first, then later chunk ID,
// so that equal scores rank deterministically.
func (set *tenantSet) worse(a, b denseHit) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return set.ids[a.slot] > set.ids[b.slot]
}

// best orders hits best first, as worse ranks them, and by slot when
// neither is worse, for slices.SortFunc.
func (set *tenantSet) best(a, b denseHit) int {
	if set.worse(a, b) {
		return 1
	}
	if set.worse(b, a) {
		return -1
	}
	return cmp.Compare(a.slot, b.slot)
}

// scan keeps the n best of slots [lo, hi) in a min-heap, unordered.
func (set *tenantSet) scan(ctx context.Context, dim int, sc *queryScorer, filter map[string]struct{}, n, lo, hi int) ([]denseHit, error) {
	h := make([]denseHit, 0, n)
	for s := lo; s < hi; s++ {
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
		hit := denseHit{score: sc.score(set.vecs[s*dim : (s+1)*dim : (s+1)*dim]), slot: s}
		switch {
		case len(h) < n:
			h = append(h, hit)
			siftUp(h, len(h)-1, set.worse)
		case set.worse(h[0], hit):
			h[0] = hit
			siftDown(h, 0, set.worse)
		}
	}
	return h, nil
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
