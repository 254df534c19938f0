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
	f := newFusion(lists...)
	for _, l := range lists {
		f.list(l, func(rank int, _ Passage) float64 { return 1 / float64(k+rank+1) })
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
