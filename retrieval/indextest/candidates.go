package indextest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

// testCandidates checks what an index hands retrieval to rank: each list
// best first, without repeats, within the candidate budget, of the
// tenant's chunks only, with every field of the passage; each retriever
// silent when its half of the query is missing; and Search exactly Fuse
// of the lists.
func testCandidates(t *testing.T, b *bundle) {
	stored := map[string]retrieval.IndexedChunk{}
	var chunks []retrieval.IndexedChunk
	for i, text := range corpus {
		c := b.chunk(t, b.tenantA, "corpus", i, text)
		chunks = append(chunks, c)
		stored[c.ID] = c
	}
	b.upsert(t, chunks...)
	b.upsert(t, b.chunk(t, b.tenantB, "corpus", 0, corpus[0]))

	text := "workers retry queue jobs with backoff and download receipts"
	q := retrieval.Query{Tenant: b.tenantA, Text: text, Vector: b.embed(t, text), TopK: 1}
	c, err := b.ix.Candidates(b.ctx, q)
	require.NoError(t, err)
	_, n := retrieval.SearchSizes(q.TopK)
	require.Len(t, c.Dense, min(n, len(chunks)), "every chunk has a cosine")
	require.NotEmpty(t, c.Lexical)
	terms := retrieval.Tokenize(text)
	for name, list := range map[string][]retrieval.Passage{"lexical": c.Lexical, "dense": c.Dense} {
		require.LessOrEqual(t, len(list), n, name)
		seen := map[string]bool{}
		for i, p := range list {
			want, ok := stored[p.ChunkID]
			require.True(t, ok, "%s: %s is not tenant A's", name, p.ChunkID)
			require.False(t, seen[p.ChunkID], "%s: %s twice", name, p.ChunkID)
			seen[p.ChunkID] = true
			require.Equal(t, retrieval.Passage{
				DocumentID: want.DocumentID, ChunkID: want.ID, Text: want.Text, Score: p.Score,
				Source: want.Source, Title: want.Title, Page: want.Page,
			}, p, name)
			if i > 0 {
				require.GreaterOrEqual(t, list[i-1].Score, p.Score, "%s: best first", name)
			}
		}
	}
	for _, p := range c.Lexical {
		require.Positive(t, p.Score)
		require.True(t, slices.ContainsFunc(retrieval.Tokenize(p.Text), func(term string) bool { return slices.Contains(terms, term) }),
			"lexical candidate %s shares no term with the query", p.ChunkID)
	}

	ps, err := retrieval.Search(b.ctx, b.ix, q)
	require.NoError(t, err)
	require.Equal(t, retrieval.Fuse(c, 1), ps, "Search ranks the candidates by Fuse")

	lexical, err := b.ix.Candidates(b.ctx, retrieval.Query{Tenant: b.tenantA, Text: text, TopK: 5})
	require.NoError(t, err)
	require.NotEmpty(t, lexical.Lexical)
	require.Empty(t, lexical.Dense, "no vector, no dense candidates")
	dense, err := b.ix.Candidates(b.ctx, retrieval.Query{Tenant: b.tenantA, Vector: q.Vector, TopK: 5})
	require.NoError(t, err)
	require.NotEmpty(t, dense.Dense)
	require.Empty(t, dense.Lexical, "no text, no lexical candidates")
}
