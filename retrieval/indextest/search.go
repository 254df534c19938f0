package indextest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

// The search tests of Run: filters, sizes, each retriever alone, hostile
// query text.

func testDocumentIDsFilter(t *testing.T, b *bundle) {
	var chunks []retrieval.IndexedChunk
	for _, doc := range []string{"d1", "d2", "d3"} {
		for i := range 2 {
			chunks = append(chunks, b.chunk(t, b.tenantA, doc, i, fmt.Sprintf("Orchestra rehearsal notes %s part %d.", doc, i)))
		}
	}
	b.upsert(t, chunks...)
	ps := b.search(t, b.tenantA, "orchestra rehearsal notes", 10, "d1", "d3")
	require.Len(t, ps, 4)
	for _, p := range ps {
		require.Contains(t, []string{"d1", "d3"}, p.DocumentID)
	}
	// Dense-only with a filter.
	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: b.tenantA, Vector: chunks[2].Vector, TopK: 10, DocumentIDs: []string{"d2"}})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{chunks[2].ID, chunks[3].ID}, chunkIDs(ps))
	// A filter matching nothing.
	require.Empty(t, b.search(t, b.tenantA, "orchestra", 10, "nope"))
}

func testTopK(t *testing.T, b *bundle) {
	var chunks []retrieval.IndexedChunk
	for i := range 30 {
		chunks = append(chunks, b.chunk(t, b.tenantA, fmt.Sprintf("doc%02d", i/5), i%5,
			fmt.Sprintf("Sourdough loaf number %d rises overnight. %s", i, corpus[i%len(corpus)])))
	}
	b.upsert(t, chunks...)
	for _, k := range []int{1, 3, 7, 30} {
		ps := b.search(t, b.tenantA, "sourdough loaf rises", k)
		require.Len(t, ps, k, "TopK %d", k)
		ids := chunkIDs(ps)
		slices.Sort(ids)
		require.Len(t, slices.Compact(ids), k, "no duplicates")
		for i := 1; i < len(ps); i++ {
			require.GreaterOrEqual(t, ps[i-1].Score, ps[i].Score, "best first")
		}
	}
	// TopK 0 means the implementation's default: some hits, never all 30
	// only because nothing limited them.
	ps := b.search(t, b.tenantA, "sourdough loaf rises", 0)
	require.NotEmpty(t, ps)
	require.Less(t, len(ps), 30)
}

func testLexicalOnly(t *testing.T, b *bundle) {
	var chunks []retrieval.IndexedChunk
	for i, text := range corpus {
		chunks = append(chunks, b.chunk(t, b.tenantA, "corpus", i, text))
	}
	rare := b.chunk(t, b.tenantA, "rare", 0, "The ticket mentions zyxquorp once, in passing, among ordinary words.")
	// Make its vector useless for this query: dense search cannot find it.
	rare.Vector = b.embed(t, corpus[2])
	chunks = append(chunks, rare)
	b.upsert(t, chunks...)

	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: b.tenantA, Text: "zyxquorp", TopK: 3})
	require.NoError(t, err)
	require.NotEmpty(t, ps)
	require.Equal(t, rare.ID, ps[0].ChunkID)
	// Also when a query vector pulls elsewhere.
	ps, err = retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: b.tenantA, Text: "zyxquorp", Vector: b.embed(t, corpus[5]), TopK: 3})
	require.NoError(t, err)
	require.Contains(t, chunkIDs(ps), rare.ID)
}

func testDenseOnly(t *testing.T, b *bundle) {
	var chunks []retrieval.IndexedChunk
	for i, text := range corpus {
		chunks = append(chunks, b.chunk(t, b.tenantA, "corpus", i, text))
	}
	b.upsert(t, chunks...)
	target := chunks[6] // glaciers
	// The text shares no term with the target; only the vector points at it.
	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: b.tenantA, Text: "completely unrelated wording", Vector: target.Vector, TopK: 3})
	require.NoError(t, err)
	require.NotEmpty(t, ps)
	require.Equal(t, target.ID, ps[0].ChunkID)
	require.Equal(t, target.Text, ps[0].Text, "dense-only hits carry their text")
	// And without any text.
	ps, err = retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: b.tenantA, Vector: target.Vector, TopK: 1})
	require.NoError(t, err)
	require.Equal(t, []string{target.ID}, chunkIDs(ps))
}

func testHostileQueryText(t *testing.T, b *bundle) {
	b.upsert(t, b.chunk(t, b.tenantA, "doc", 0, `He said "NEAR(a b)" AND OR NOT * ^ : {col} -- '; DROP TABLE x;`))
	for _, q := range []string{
		`"`, `""`, `*`, `a OR`, `NEAR(`, `col:`, `{terms}: x`, `'; DROP TABLE index_chunks; --`,
		"\x00\xff\xfe", strings.Repeat("word ", 2000), `^start`, `AND`, `(`, `)`,
	} {
		_, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: b.tenantA, Text: q, TopK: 5})
		require.NoError(t, err, "query %q", q)
	}
	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: b.tenantA, Text: `NEAR(a b) "drop table"`, TopK: 5})
	require.NoError(t, err)
	require.Len(t, ps, 1)
}

func testEmptyTenant(t *testing.T, b *bundle) {
	ps := b.search(t, "never-written-"+b.tenantA, "anything at all", 5)
	require.Empty(t, ps)
}
