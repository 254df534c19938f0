package retrieval

import (
	"cmp"
	"slices"
)

// DefaultRRFK is the rank offset of reciprocal rank fusion when none is
// given; 60 is the value of the original paper and damps the weight of the
// very first ranks.
const DefaultRRFK = 60

// FuseRRF merges ranked lists of passages (best first, e.g. one from lexical
// and one from dense search) into one ranking by reciprocal rank fusion: a
// passage's score is the sum over the lists it appears in of 1/(k+rank),
// rank counting from 1. Passages are identified by ChunkID; within one list
// only a chunk's first (best) occurrence counts. Ties are broken by ChunkID
// so the result is deterministic. It returns at most topK passages (all of
// them when topK <= 0) with Score set to the fused score; k <= 0 means
// DefaultRRFK. The fields of a passage come from its first occurrence that
// has Text, so a list may carry IDs only and leave the text to another.
func FuseRRF(k int, topK int, lists ...[]Passage) []Passage {
	if k <= 0 {
		k = DefaultRRFK
	}
	total := 0
	for _, l := range lists {
		total += len(l)
	}
	pos := make(map[string]int, total) // ChunkID → index in fused
	fused := make([]Passage, 0, total)
	seen := make(map[string]struct{}, total)
	for _, l := range lists {
		clear(seen)
		for r, p := range l {
			if _, dup := seen[p.ChunkID]; dup {
				continue
			}
			seen[p.ChunkID] = struct{}{}
			s := 1 / float64(k+r+1)
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
