package retrieval

import "context"

// Search sizes, the same for every index (SearchSizes applies them).
const (
	// DefaultTopK is the number of passages a search returns when its
	// query asks for none.
	DefaultTopK = 5
	// MaxTopK caps the passages one search returns.
	MaxTopK = 100
	// MinCandidates is the least number of hits each retriever (lexical,
	// dense) contributes to fusion; it grows to 4×TopK for larger requests.
	MinCandidates = 20
)

// SearchSizes turns a query's TopK into the number of passages a search
// returns (DefaultTopK when unset, at most MaxTopK) and the number of
// candidates each retriever contributes to fusion.
func SearchSizes(topK int) (k, candidates int) {
	if topK <= 0 {
		topK = DefaultTopK
	}
	k = min(topK, MaxTopK)
	return k, max(4*k, MinCandidates)
}

// Candidate is one retriever's hit before anything is ranked: which chunk
// and the retriever's own score. It carries nothing else, so that a Fusion
// ranks on what every index has and an index reads a passage's stored
// fields only for the chunks that win.
type Candidate struct {
	ChunkID    string
	DocumentID string
	Score      float64
}

// Candidates is what an index finds for one query before anything is
// ranked: each retriever's hits, best first, Score the retriever's own
// score. The lists are the input of a Fusion (Fuse), so that which index
// found them does not change how they rank.
type Candidates struct {
	// Lexical are the BM25 hits of Query.Text, Score their BM25 score;
	// empty when the text has no terms.
	Lexical []Candidate
	// Dense are the chunks nearest to Query.Vector, Score their cosine
	// similarity (the dot product, for the unit vectors embedders give);
	// empty when the query has no vector.
	Dense []Candidate
}

// Fusion is a ranking policy: it merges one query's candidates into at
// most topK chunks (all when topK <= 0), best first, Score the fused score.
// Fuse is the one every search uses (Search hands it to the index); an
// Index ranks by the Fusion it is handed and by nothing of its own.
type Fusion func(c Candidates, topK int) []Candidate

// DenseWeight is the share of the dense ranking in Fuse (a convex
// combination of min-max normalised scores; lexical BM25 has the rest).
// The default hash embedder is lexical at heart, a noisier copy of the BM25
// signal, so it gets the smaller share: enough to reorder close lexical
// candidates and to add what BM25 misses, not enough to overturn a clear
// lexical winner. It was chosen on the shipped evaluation set (cmd/eval,
// beir-gospec, nDCG@10 with bm25 alone 0.954): dense share 0.2 gave 0.960,
// 0.25 0.962, 0.3 0.955, 0.5 0.943; reciprocal rank fusion gave 0.926 to
// 0.952 at dense weights 1 to 0.3. A model-based embedder likely deserves
// more; measure with cmd/eval on a set of your own before changing it.
const DenseWeight = 0.25

// Fuse is the ranking policy of every search: the lexical and dense
// candidates merged by a convex combination of their normalised scores
// (fuseConvex), the dense list weighted DenseWeight. It returns at most topK
// chunks (all when topK <= 0), best first, Score the fused score; ties are
// broken by ChunkID. It is a Fusion.
func Fuse(c Candidates, topK int) []Candidate {
	return fuseConvex(topK, ranked{Candidates: c.Lexical, Weight: 1 - DenseWeight}, ranked{Candidates: c.Dense, Weight: DenseWeight})
}

// Search runs q on idx ranked by Fuse: the one way a search runs,
// whichever index serves it. It returns at most SearchSizes(q.TopK)
// passages of q.Tenant, best first, Score the fused score. The index's
// error is returned as it is (it carries the adapter's prefix and error
// code).
func Search(ctx context.Context, idx Index, q Query) ([]Passage, error) {
	return idx.Search(ctx, q, Fuse)
}
