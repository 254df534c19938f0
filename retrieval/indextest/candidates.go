package indextest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

// recorder is a Fusion that keeps what the index handed it and ranks by
// rank (Fuse when rank is nil).
type recorder struct {
	rank retrieval.Fusion
	got  retrieval.Candidates
	topK int
	out  []retrieval.Candidate
}

func (r *recorder) fuse(c retrieval.Candidates, topK int) []retrieval.Candidate {
	r.got, r.topK = c, topK
	rank := r.rank
	if rank == nil {
		rank = retrieval.Fuse
	}
	r.out = rank(c, topK)
	return r.out
}

// reversed is a deliberately different ranking policy: Fuse's order
// turned around, worst first, cut to topK.
func reversed(c retrieval.Candidates, topK int) []retrieval.Candidate {
	all := retrieval.Fuse(c, 0)
	slices.Reverse(all)
	if topK > 0 && len(all) > topK {
		all = all[:topK]
	}
	return all
}

// testCandidates checks what an index hands the fusion to rank: each list
// best first, without repeats, within the candidate budget, of the
// tenant's chunks only; each retriever silent when its half of the query
// is missing; the passages those the fusion chose, in its order, with its
// scores and every stored field; and Search exactly Fuse of the lists.
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
	rec := &recorder{}
	ps, err := b.ix.Search(b.ctx, q, rec.fuse)
	require.NoError(t, err)
	k, n := retrieval.SearchSizes(q.TopK)
	require.Equal(t, k, rec.topK, "the fusion is asked for SearchSizes' k")
	c := rec.got
	require.Len(t, c.Dense, min(n, len(chunks)), "every chunk has a cosine")
	require.NotEmpty(t, c.Lexical)
	terms := retrieval.Tokenize(text)
	for name, list := range map[string][]retrieval.Candidate{"lexical": c.Lexical, "dense": c.Dense} {
		require.LessOrEqual(t, len(list), n, name)
		seen := map[string]bool{}
		for i, p := range list {
			want, ok := stored[p.ChunkID]
			require.True(t, ok, "%s: %s is not tenant A's", name, p.ChunkID)
			require.False(t, seen[p.ChunkID], "%s: %s twice", name, p.ChunkID)
			seen[p.ChunkID] = true
			require.Equal(t, retrieval.Candidate{ChunkID: want.ID, DocumentID: want.DocumentID, Score: p.Score}, p, name)
			if i > 0 {
				require.GreaterOrEqual(t, list[i-1].Score, p.Score, "%s: best first", name)
			}
		}
	}
	for _, p := range c.Lexical {
		require.Positive(t, p.Score)
		require.True(t, slices.ContainsFunc(retrieval.Tokenize(stored[p.ChunkID].Text), func(term string) bool { return slices.Contains(terms, term) }),
			"lexical candidate %s shares no term with the query", p.ChunkID)
	}
	requireChosen(t, stored, rec.out, ps)

	fused, err := retrieval.Search(b.ctx, b.ix, q)
	require.NoError(t, err)
	requireChosen(t, stored, retrieval.Fuse(c, 1), fused)

	lexical := &recorder{}
	_, err = b.ix.Search(b.ctx, retrieval.Query{Tenant: b.tenantA, Text: text, TopK: 5}, lexical.fuse)
	require.NoError(t, err)
	require.NotEmpty(t, lexical.got.Lexical)
	require.Empty(t, lexical.got.Dense, "no vector, no dense candidates")
	dense := &recorder{}
	_, err = b.ix.Search(b.ctx, retrieval.Query{Tenant: b.tenantA, Vector: q.Vector, TopK: 5}, dense.fuse)
	require.NoError(t, err)
	require.NotEmpty(t, dense.got.Dense)
	require.Empty(t, dense.got.Lexical, "no text, no lexical candidates")
}

// testRanksByFusion checks that an index ranks by the fusion it is handed
// and by nothing of its own: a policy that turns Fuse around gets its
// order, its scores and its cut.
func testRanksByFusion(t *testing.T, b *bundle) {
	stored := map[string]retrieval.IndexedChunk{}
	var chunks []retrieval.IndexedChunk
	for i, text := range corpus {
		c := b.chunk(t, b.tenantA, "corpus", i, text)
		chunks = append(chunks, c)
		stored[c.ID] = c
	}
	b.upsert(t, chunks...)

	text := "workers retry queue jobs with backoff and download receipts"
	for name, q := range map[string]retrieval.Query{
		"hybrid":  {Tenant: b.tenantA, Text: text, Vector: b.embed(t, text), TopK: 3},
		"lexical": {Tenant: b.tenantA, Text: "energy queue invoice lighthouse glaciers", TopK: 2},
		"dense":   {Tenant: b.tenantA, Vector: b.embed(t, text), TopK: 4},
	} {
		rec := &recorder{rank: reversed}
		ps, err := b.ix.Search(b.ctx, q, rec.fuse)
		require.NoError(t, err, name)
		k, _ := retrieval.SearchSizes(q.TopK)
		want := reversed(rec.got, k)
		require.Len(t, want, min(k, len(retrieval.Fuse(rec.got, 0))), name)
		require.Greater(t, len(want), 1, "%s: an order worth checking", name)
		require.Less(t, want[0].Score, want[len(want)-1].Score, "%s: the reversed policy puts the worst first", name)
		requireChosen(t, stored, want, ps)

		fused, err := retrieval.Search(b.ctx, b.ix, q)
		require.NoError(t, err, name)
		require.NotEqual(t, chunkIDs(fused), chunkIDs(ps), "%s: Fuse ranks otherwise", name)
	}
}

// requireChosen checks that ps are the chunks chosen, in their order, with
// their fused scores and every stored field.
func requireChosen(t *testing.T, stored map[string]retrieval.IndexedChunk, chosen []retrieval.Candidate, ps []retrieval.Passage) {
	t.Helper()
	want := make([]retrieval.Passage, len(chosen))
	for i, c := range chosen {
		s := stored[c.ChunkID]
		want[i] = retrieval.Passage{
			DocumentID: s.DocumentID, ChunkID: s.ID, Text: s.Text, Score: c.Score,
			Source: s.Source, Title: s.Title, Page: s.Page,
		}
	}
	require.Equal(t, want, ps)
}
