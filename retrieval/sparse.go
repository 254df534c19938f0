package retrieval

import (
	"hash/fnv"
	"slices"
)

// BM25 parameters of SparseEncoder.
const (
	// SparseK1 is BM25's term-frequency saturation: a term's weight grows
	// with its count but never beyond K1+1.
	SparseK1 = 1.2
	// SparseB is BM25's length normalisation: 0 ignores chunk length, 1
	// normalises fully.
	SparseB = 0.75
	// SparseAvgLen is the average chunk length, in terms, that the length
	// normalisation assumes. A real BM25 uses the corpus average, which a
	// per-chunk encoder cannot know and which would change every stored
	// vector as the corpus grows; 100 is what the default 1000-character
	// chunk gives after stop words are removed. A wrong guess only scales
	// every chunk of a length alike, so rankings of similar chunks hold.
	SparseAvgLen = 100
)

// SparseVector is a sparse term vector: Indices are term IDs in ascending
// order without repeats, Values their weights, index for index.
type SparseVector struct {
	Indices []uint32
	Values  []float32
}

// Len is the number of non-zero entries.
func (v SparseVector) Len() int { return len(v.Indices) }

// SparseEncoder turns text into sparse vectors for lexical search in an
// index that scores by dot product and applies the inverse document
// frequency itself (Qdrant's sparse vectors with the IDF modifier): the
// document side carries BM25's saturated term frequency, the query side a
// unit weight per term, so that the dot product is the BM25 score. Terms
// are Tokenize's, so lexical search agrees with the embedded index on what
// a word is. The zero value is ready to use.
type SparseEncoder struct{}

// EncodeDocument returns the BM25 term-frequency vector of a chunk's text:
// tf*(k1+1) / (tf + k1*(1-b+b*len/avgLen)) per term, len being the number
// of terms in text (see SparseK1, SparseB, SparseAvgLen). Text without
// terms gives an empty vector.
func (SparseEncoder) EncodeDocument(text string) SparseVector {
	terms := Tokenize(text)
	if len(terms) == 0 {
		return SparseVector{}
	}
	counts := termCounts(terms)
	norm := SparseK1 * (1 - SparseB + SparseB*float64(len(terms))/SparseAvgLen)
	v := SparseVector{Indices: make([]uint32, 0, len(counts)), Values: make([]float32, 0, len(counts))}
	for _, id := range sortedIDs(counts) {
		tf := float64(counts[id])
		v.Indices = append(v.Indices, id)
		v.Values = append(v.Values, float32(tf*(SparseK1+1)/(tf+norm)))
	}
	return v
}

// EncodeQuery returns the query vector of text: weight 1 for every distinct
// term, however often it repeats, so that a query cannot outweigh the
// document side by repeating a word. Text without terms gives an empty
// vector.
func (SparseEncoder) EncodeQuery(text string) SparseVector {
	counts := termCounts(Tokenize(text))
	ids := sortedIDs(counts)
	v := SparseVector{Indices: ids, Values: make([]float32, len(ids))}
	for i := range v.Values {
		v.Values[i] = 1
	}
	if len(ids) == 0 {
		return SparseVector{}
	}
	return v
}

// TermID is the sparse index of a term: its 32-bit FNV-1a hash. Distinct
// terms may share an ID (a collision merges their counts), which costs a
// little precision and keeps the encoder free of a vocabulary.
func TermID(term string) uint32 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(term)) // hash.Hash never fails
	return h.Sum32()
}

// termCounts counts terms by ID.
func termCounts(terms []string) map[uint32]int {
	counts := make(map[uint32]int, len(terms))
	for _, t := range terms {
		counts[TermID(t)]++
	}
	return counts
}

func sortedIDs(counts map[uint32]int) []uint32 {
	ids := make([]uint32, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
