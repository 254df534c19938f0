package retrieval

import (
	"cmp"
	"slices"
)

// ranked is one ranked list of candidates (best first, Score set by its
// retriever) and the weight it carries in fuseConvex.
type ranked struct {
	Candidates []Candidate
	Weight     float64
}

// fuseConvex merges ranked lists of candidates by a convex combination of
// their scores: each list's scores are min-max normalised to [0, 1] over
// the list (its best candidate 1, its worst 0), and a chunk scores the sum
// over the lists it appears in of weight × normalised score. Unlike rank
// fusion it keeps how far apart the retrievers put their candidates, so a
// clear lexical winner is not overturned by a weak retriever's vague
// preference. Ties are broken by ChunkID; topK <= 0 returns everything.
// The weights of ranked are the mixing weights (conventionally summing
// to 1). DocumentID comes from a chunk's first occurrence.
func fuseConvex(topK int, lists ...ranked) []Candidate {
	total := 0
	for _, l := range lists {
		total += len(l.Candidates)
	}
	f := newFusion(total)
	for _, l := range lists {
		if len(l.Candidates) == 0 {
			continue
		}
		lo, hi := l.Candidates[0].Score, l.Candidates[0].Score
		for _, c := range l.Candidates {
			lo, hi = min(lo, c.Score), max(hi, c.Score)
		}
		f.list(l.Candidates, func(c Candidate) float64 {
			norm := 1.0
			if hi > lo {
				norm = (c.Score - lo) / (hi - lo)
			}
			return l.Weight * norm
		})
	}
	return f.ranked(topK)
}

// fusion sums the scores that several ranked lists give each chunk.
type fusion struct {
	pos   map[string]int // ChunkID → index in fused
	fused []Candidate
	seen  map[string]struct{}
}

// newFusion returns a fusion sized for total candidates over all lists.
func newFusion(total int) *fusion {
	return &fusion{pos: make(map[string]int, total), fused: make([]Candidate, 0, total), seen: make(map[string]struct{}, total)}
}

// list adds score(candidate) to each chunk of one list; within the list
// only a chunk's first (best) occurrence counts.
func (f *fusion) list(l []Candidate, score func(c Candidate) float64) {
	clear(f.seen)
	for _, c := range l {
		if _, dup := f.seen[c.ChunkID]; dup {
			continue
		}
		f.seen[c.ChunkID] = struct{}{}
		s := score(c)
		if i, ok := f.pos[c.ChunkID]; ok {
			f.fused[i].Score += s
			continue
		}
		f.pos[c.ChunkID] = len(f.fused)
		c.Score = s
		f.fused = append(f.fused, c)
	}
}

// ranked returns the chunks best first (ties by ChunkID, so the order is
// deterministic), at most topK of them (all when topK <= 0).
func (f *fusion) ranked(topK int) []Candidate {
	slices.SortFunc(f.fused, func(a, b Candidate) int {
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
