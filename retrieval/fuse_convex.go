package retrieval

import (
	"cmp"
	"slices"
)

// Ranked is one ranked list of passages (best first, Score set by its
// retriever) and the weight it carries in FuseConvex.
type Ranked struct {
	Passages []Passage
	Weight   float64
}

// FuseConvex merges ranked lists of passages by a convex combination of
// their scores: each list's scores are min-max normalised to [0, 1] over
// the list (its best passage 1, its worst 0), and a passage scores the sum
// over the lists it appears in of weight × normalised score. Unlike rank
// fusion it keeps how far apart the retrievers put their candidates, so a
// clear lexical winner is not overturned by a weak retriever's vague
// preference. Ties are broken by ChunkID; topK <= 0 returns everything.
// The weights of Ranked are the mixing weights (conventionally summing
// to 1). Passage fields come from the first occurrence with Text.
func FuseConvex(topK int, lists ...Ranked) []Passage {
	total := 0
	for _, l := range lists {
		total += len(l.Passages)
	}
	pos := make(map[string]int, total)
	fused := make([]Passage, 0, total)
	seen := make(map[string]struct{}, total)
	for _, l := range lists {
		if len(l.Passages) == 0 {
			continue
		}
		lo, hi := l.Passages[0].Score, l.Passages[0].Score
		for _, p := range l.Passages {
			lo, hi = min(lo, p.Score), max(hi, p.Score)
		}
		clear(seen)
		for _, p := range l.Passages {
			if _, dup := seen[p.ChunkID]; dup {
				continue
			}
			seen[p.ChunkID] = struct{}{}
			norm := 1.0
			if hi > lo {
				norm = (p.Score - lo) / (hi - lo)
			}
			s := l.Weight * norm
			if i, ok := pos[p.ChunkID]; ok {
				if fused[i].Text == "" && p.Text != "" {
					score := fused[i].Score
					fused[i] = p
					fused[i].Score = score
				}
				fused[i].Score += s
				continue
			}
			pos[p.ChunkID] = len(fused)
			p.Score = s
			fused = append(fused, p)
		}
	}
	slices.SortFunc(fused, func(a, b Passage) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return cmp.Compare(a.ChunkID, b.ChunkID)
	})
	if topK > 0 && len(fused) > topK {
		fused = fused[:topK:topK]
	}
	return fused
}
