package indextest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

// alikeVocabulary is the words of RunAlike's corpus, each its own term.
var alikeVocabulary = []string{
	"glacier", "harbor", "kiln", "lantern", "meadow", "nectar", "orchid", "pebble", "quarry", "raven",
	"saddle", "timber", "umbrella", "violin", "walnut", "yarrow", "zephyr", "anchor", "bramble", "cinder",
}

// Sizes of RunAlike's corpus: alikeChunks chunks of alikeTerms words each,
// fewer than the shortest candidate list (retrieval.MinCandidates).
const (
	alikeChunks = 16
	alikeTerms  = 6
)

// RunAlike checks that two indexes rank alike: the same chunks upserted
// into each, the same queries, the same passages in the same order with
// the same scores. It is how the embedded index and the Qdrant adapter
// show that ranking is retrieval's (Fuse), not the backend's. Both indexes
// must hold nothing else: Qdrant weighs terms (IDF) over its whole
// collection.
//
// The corpus is built so that the backends' own scores agree up to a
// factor: every chunk holds the same number of terms, each once, so BM25's
// length normalisation (the tenant's average length in the embedded index,
// a fixed guess in Qdrant's sparse vectors) scales every chunk alike; and
// there are fewer chunks than candidates, so which of two tied candidates
// a backend keeps cannot matter. On other corpora the two rank close, not
// identically.
func RunAlike(t *testing.T, a, b retrieval.Index) {
	t.Helper()
	bu := setup(t, func(*testing.T) retrieval.Index { return a })
	chunks := alikeCorpus(t, bu)
	require.NoError(t, a.Upsert(bu.ctx, chunks))
	require.NoError(t, b.Upsert(bu.ctx, chunks))

	vec := func(text string) []float32 { return bu.embed(t, text) }
	queries := map[string]retrieval.Query{
		"hybrid":          {Text: "glacier kiln meadow", Vector: vec("glacier kiln meadow"), TopK: 5},
		"hybrid one term": {Text: "raven", Vector: vec("raven"), TopK: 10},
		"lexical":         {Text: "harbor walnut zephyr", TopK: 10},
		"dense":           {Vector: vec("timber anchor cinder"), TopK: 3},
		"documents":       {Text: "orchid pebble", Vector: vec("orchid pebble"), TopK: 10, DocumentIDs: []string{"doc1", "doc3"}},
	}
	for name, q := range queries {
		q.Tenant = bu.tenantA
		want, err := retrieval.Search(bu.ctx, a, q)
		require.NoError(t, err, name)
		got, err := retrieval.Search(bu.ctx, b, q)
		require.NoError(t, err, name)
		require.Greater(t, len(want), 1, "%s: a ranking worth comparing", name)
		require.Equal(t, chunkIDs(want), chunkIDs(got), name)
		for i := range want {
			require.InDelta(t, want[i].Score, got[i].Score, 1e-5, "%s: %s", name, want[i].ChunkID)
			require.Equal(t, want[i].Text, got[i].Text, name)
		}
	}
}

// alikeCorpus builds RunAlike's chunks for the bundle's tenant A, four
// documents of four chunks, and checks the premise: each chunk's words are
// distinct terms, no two of the vocabulary's terms share a sparse index.
func alikeCorpus(t *testing.T, b *bundle) []retrieval.IndexedChunk {
	t.Helper()
	ids := map[uint32]string{}
	for _, w := range alikeVocabulary {
		terms := retrieval.Tokenize(w)
		require.Len(t, terms, 1, w)
		_, clash := ids[retrieval.TermID(terms[0])]
		require.False(t, clash, "%s shares a term ID", w)
		ids[retrieval.TermID(terms[0])] = terms[0]
	}
	r := rand.New(rand.NewPCG(12, 2026))
	out := make([]retrieval.IndexedChunk, alikeChunks)
	for i := range out {
		words := make([]string, alikeTerms)
		for j, k := range r.Perm(len(alikeVocabulary))[:alikeTerms] {
			words[j] = alikeVocabulary[k]
		}
		text := strings.Join(words, " ")
		terms := retrieval.Tokenize(text)
		require.Len(t, terms, alikeTerms)
		require.Len(t, slices.Compact(slices.Sorted(slices.Values(terms))), alikeTerms, "terms repeat in %q", text)
		out[i] = b.chunk(t, b.tenantA, fmt.Sprintf("doc%d", i/4), i%4, text)
	}
	return out
}
