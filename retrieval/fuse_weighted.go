package retrieval

import (
	"cmp"
	"slices"
)

// Ranked is one ranked list of passages (best first) and the weight its
// reciprocal ranks carry in FuseWeightedRRF.
type Ranked struct {
	Passages []Passage
	Weight   float64
}

// FuseWeightedRRF is FuseRRF with a weight per list: a passage scores the
// sum over the lists it appears in of weight/(k+rank). Equal weights give
// FuseRRF's ranking. A weight below 1 lets a weaker retriever add what the
// others miss and break their ties without overturning their agreement.
func FuseWeightedRRF(k, topK int, lists ...Ranked) []Passage {
	if k <= 0 {
		k = DefaultRRFK
	}
	total := 0
	for _, l := range lists {
		total += len(l.Passages)
	}
	pos := make(map[string]int, total) // ChunkID → index in fused
	fused := make([]Passage, 0, total)
	seen := make(map[string]struct{}, total)
	for _, l := range lists {
		clear(seen)
		for r, p := range l.Passages {
			if _, dup := seen[p.ChunkID]; dup {
				continue
			}
			seen[p.ChunkID] = struct{}{}
			s := l.Weight / float64(k+r+1)
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
