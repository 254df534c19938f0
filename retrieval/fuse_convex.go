package retrieval

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
