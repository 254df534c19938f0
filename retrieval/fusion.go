package retrieval

import (
	"cmp"
	"slices"
)

// ranked is one ranked list of passages (best first, Score set by its
// retriever) and the weight it carries in fuseConvex.
type ranked struct {
	Passages []Passage
	Weight   float64
}

// fuseConvex merges ranked lists of passages by a convex combination of
// their scores: each list's scores are min-max normalised to [0, 1] over
// the list (its best passage 1, its worst 0), and a passage scores the sum
// over the lists it appears in of weight × normalised score. Unlike rank
// fusion it keeps how far apart the retrievers put their candidates, so a
// clear lexical winner is not overturned by a weak retriever's vague
// preference. Ties are broken by ChunkID; topK <= 0 returns everything.
// The weights of ranked are the mixing weights (conventionally summing
// to 1). Passage fields come from the first occurrence with Text.
func fuseConvex(topK int, lists ...ranked) []Passage {
	plain := make([][]Passage, len(lists))
	for i, l := range lists {
		plain[i] = l.Passages
	}
	f := newFusion(plain...)
	for _, l := range lists {
		if len(l.Passages) == 0 {
			continue
		}
		lo, hi := l.Passages[0].Score, l.Passages[0].Score
		for _, p := range l.Passages {
			lo, hi = min(lo, p.Score), max(hi, p.Score)
		}
		f.list(l.Passages, func(_ int, p Passage) float64 {
			norm := 1.0
			if hi > lo {
				norm = (p.Score - lo) / (hi - lo)
			}
			return l.Weight * norm
		})
	}
	return f.ranked(topK)
}

// fusion sums the scores that several ranked lists give each chunk.
type fusion struct {
	pos   map[string]int // ChunkID → index in fused
	fused []Passage
	seen  map[string]struct{}
}

func newFusion(lists ...[]Passage) *fusion {
	total := 0
	for _, l := range lists {
		total += len(l)
	}
	return &fusion{pos: make(map[string]int, total), fused: make([]Passage, 0, total), seen: make(map[string]struct{}, total)}
}

// list adds score(rank, passage) to each chunk of one list; within the list
// only a chunk's first (best) occurrence counts. A passage's fields come
// from its first occurrence that has Text.
func (f *fusion) list(l []Passage, score func(rank int, p Passage) float64) {
	clear(f.seen)
	for r, p := range l {
		if _, dup := f.seen[p.ChunkID]; dup {
			continue
		}
		f.seen[p.ChunkID] = struct{}{}
		s := score(r, p)
		if i, ok := f.pos[p.ChunkID]; ok {
			if f.fused[i].Text == "" && p.Text != "" {
				total := f.fused[i].Score
				f.fused[i] = p
				f.fused[i].Score = total
			}
			f.fused[i].Score += s
			continue
		}
		f.pos[p.ChunkID] = len(f.fused)
		p.Score = s
		f.fused = append(f.fused, p)
	}
}

// ranked returns the chunks best first (ties by ChunkID, so the order is
// deterministic), at most topK of them (all when topK <= 0).
func (f *fusion) ranked(topK int) []Passage {
	slices.SortFunc(f.fused, func(a, b Passage) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ChunkID, b.ChunkID)
	})
	if topK > 0 && len(f.fused) > topK {
		f.fused = f.fused[:topK:topK]
	}
	return f.fused
}
