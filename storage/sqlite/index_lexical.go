package sqlite

import (
	"math"
	"slices"

	"github.com/ragqueue/ragqueue/retrieval"
)

// BM25 parameters, the usual ones (and FTS5's).
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

// maxQueryTerms bounds the terms one lexical search scores: a pasted page
// as a question must not turn into a thousand posting-list walks.
const maxQueryTerms = 32

// posting says that a row holds a term tf times.
type posting struct {
	row uint32
	tf  uint32
}

// termFreq is one term of a chunk and how often the chunk holds it.
type termFreq struct {
	term uint32
	tf   uint32
}

// lexicon is the in-memory inverted index of one tenant's searchable
// chunks, for BM25 over retrieval.Tokenize terms (the tokens the rest of
// ragqueue stems and filters the same way). Postings point at rows, which
// are numbered in insertion order and never move, so posting lists only
// grow at the end; the tenantSet's slots, which swap-removal moves, map to
// rows through slotRow and rowSlot. A removed row stays in the postings,
// marked dead in rowSlot, until enough are dead to rebuild the lists.
type lexicon struct {
	termID    map[string]uint32
	postings  [][]posting // term ID → postings, rows ascending
	df        []int32     // term ID → live chunks holding the term
	rowSlot   []int32     // row → slot, -1 when removed
	slotRow   []uint32    // slot → row
	slotTerms [][]termFreq
	slotLen   []uint32          // slot → number of terms (its BM25 length)
	totalLen  int64             // sum of slotLen
	dead      int               // removed rows still in the postings
	entries   int64             // postings held, dead ones included
	counts    map[string]uint32 // scratch of add
}

func newLexicon(hint int) *lexicon {
	return &lexicon{
		termID:    make(map[string]uint32),
		rowSlot:   make([]int32, 0, hint),
		slotRow:   make([]uint32, 0, hint),
		slotTerms: make([][]termFreq, 0, hint),
		slotLen:   make([]uint32, 0, hint),
		counts:    make(map[string]uint32),
	}
}

// add indexes text as slot, which is either the next slot (a new chunk) or
// one whose terms were just removed (an update in place).
func (lx *lexicon) add(slot int, text string) {
	tokens := retrieval.Tokenize(text)
	clear(lx.counts)
	for _, t := range tokens {
		lx.counts[t]++
	}
	row := uint32(len(lx.rowSlot))
	lx.rowSlot = append(lx.rowSlot, int32(slot))
	terms := make([]termFreq, 0, len(lx.counts))
	for t, tf := range lx.counts {
		id, ok := lx.termID[t]
		if !ok {
			id = uint32(len(lx.postings))
			lx.termID[t] = id
			lx.postings = append(lx.postings, nil)
			lx.df = append(lx.df, 0)
		}
		lx.postings[id] = append(lx.postings[id], posting{row: row, tf: tf})
		lx.entries++
		lx.df[id]++
		terms = append(terms, termFreq{term: id, tf: tf})
	}
	if slot == len(lx.slotRow) {
		lx.slotRow = append(lx.slotRow, row)
		lx.slotTerms = append(lx.slotTerms, terms)
		lx.slotLen = append(lx.slotLen, uint32(len(tokens)))
	} else {
		lx.slotRow[slot], lx.slotTerms[slot], lx.slotLen[slot] = row, terms, uint32(len(tokens))
	}
	lx.totalLen += int64(len(tokens))
}

// drop removes slot's terms from the statistics and marks its row dead; the
// slot itself stays until move or truncate.
func (lx *lexicon) drop(slot int) {
	lx.rowSlot[lx.slotRow[slot]] = -1
	for _, t := range lx.slotTerms[slot] {
		lx.df[t.term]--
	}
	lx.totalLen -= int64(lx.slotLen[slot])
	lx.slotTerms[slot] = nil
	lx.dead++
}

// move makes slot to hold what slot from held (a swap-removal), and
// truncate then cuts the slots to n.
func (lx *lexicon) move(from, to int) {
	lx.slotRow[to], lx.slotTerms[to], lx.slotLen[to] = lx.slotRow[from], lx.slotTerms[from], lx.slotLen[from]
	lx.rowSlot[lx.slotRow[to]] = int32(to)
}

func (lx *lexicon) truncate(n int) {
	clear(lx.slotTerms[n:])
	lx.slotRow, lx.slotTerms, lx.slotLen = lx.slotRow[:n], lx.slotTerms[:n], lx.slotLen[:n]
}

// compact rebuilds the postings without dead rows once they are as many as
// the live ones; rows become slots again.
func (lx *lexicon) compact() {
	live := len(lx.slotRow)
	if lx.dead < 1024 || lx.dead < live {
		return
	}
	for id := range lx.postings {
		lx.postings[id] = lx.postings[id][:0]
	}
	lx.rowSlot = lx.rowSlot[:0]
	lx.entries = 0
	for slot, terms := range lx.slotTerms {
		row := uint32(slot)
		lx.rowSlot = append(lx.rowSlot, int32(slot))
		lx.slotRow[slot] = row
		for _, t := range terms {
			lx.postings[t.term] = append(lx.postings[t.term], posting{row: row, tf: t.tf})
		}
		lx.entries += int64(len(terms))
	}
	// Terms no live chunk holds any more give their memory back.
	for id := range lx.postings {
		if lx.df[id] == 0 {
			lx.postings[id] = nil
		}
	}
	lx.rowSlot = slices.Clip(lx.rowSlot)
	lx.dead = 0
}

// bytes estimates the lexicon's memory from its counters (it runs on every
// cache write, so it must not walk the lists): each posting once in the
// lists and once in slotTerms, with slack for append growth, each term's
// map entry and list header, each row and slot.
func (lx *lexicon) bytes() int64 {
	return lx.entries*20 + int64(len(lx.postings))*80 + int64(len(lx.rowSlot))*4 + int64(len(lx.slotRow))*40
}

// lexicalTopK returns the n slots that score best by BM25 for text's terms
// (any of them), restricted to filter's documents when filter is set. The
// statistics (chunk count, lengths, document frequencies) are the tenant's
// own, so one tenant's documents never sway another's ranking. scores is
// scratch of at least one entry per slot, all zero, and is left all zero.
func (set *tenantSet) lexicalTopK(text string, filter map[string]struct{}, n int, scores []float32) []denseHit {
	lx := set.lex
	live := len(set.ids)
	if live == 0 {
		return nil
	}
	avgLen := float64(lx.totalLen) / float64(live)
	if avgLen == 0 {
		avgLen = 1
	}
	var touched []int32
	seen := make(map[string]struct{})
	for _, t := range retrieval.Tokenize(text) {
		if _, dup := seen[t]; dup {
			continue
		}
		if len(seen) == maxQueryTerms {
			break
		}
		seen[t] = struct{}{}
		id, ok := lx.termID[t]
		if !ok || lx.df[id] == 0 {
			continue
		}
		df := float64(lx.df[id])
		idf := float32(math.Log(1 + (float64(live)-df+0.5)/(df+0.5)))
		for _, p := range lx.postings[id] {
			s := lx.rowSlot[p.row]
			if s < 0 {
				continue
			}
			if filter != nil {
				if _, ok := filter[set.docs[s]]; !ok {
					continue
				}
			}
			tf := float32(p.tf)
			norm := float32(bm25K1 * (1 - bm25B + bm25B*float64(lx.slotLen[s])/avgLen))
			if scores[s] == 0 {
				touched = append(touched, s)
			}
			scores[s] += idf * tf * (bm25K1 + 1) / (tf + norm)
		}
	}
	h := make([]denseHit, 0, min(n, len(touched)))
	for _, s := range touched {
		hit := denseHit{score: scores[s], slot: int(s)}
		scores[s] = 0
		switch {
		case len(h) < n:
			h = append(h, hit)
			siftUp(h, len(h)-1, set.worse)
		case set.worse(h[0], hit):
			h[0] = hit
			siftDown(h, 0, set.worse)
		}
	}
	slices.SortFunc(h, set.best)
	return h
}
