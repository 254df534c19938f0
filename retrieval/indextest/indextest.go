// Package indextest is the contract every retrieval.Index implementation
// must pass: the embedded SQLite index and the Qdrant adapter run the same
// suite, so that switching adapters cannot change what search means.
package indextest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Dim is the vector dimension the suite upserts and searches with: the
// index newIndex returns must accept vectors of this length.
const Dim = 384

// Run runs the contract suite against the implementation that newIndex
// returns. newIndex is called once per subtest and may return a fresh index
// or a shared one: every subtest uses tenants of its own, so subtests run in
// parallel against a shared backend without seeing each other's data.
func Run(t *testing.T, newIndex func(t *testing.T) retrieval.Index) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, b *bundle)
	}{
		{"Ping", testPing},
		{"UpsertIdempotent", testUpsertIdempotent},
		{"UpsertEmpty", testUpsertEmpty},
		{"PassageFieldsRoundTrip", testPassageFields},
		{"TenantIsolation", testTenantIsolation},
		{"SearchWithoutTenant", testSearchWithoutTenant},
		{"DeleteDocument", testDeleteDocument},
		{"DeleteDocumentOtherTenant", testDeleteDocumentOtherTenant},
		{"DocumentIDsFilter", testDocumentIDsFilter},
		{"TopK", testTopK},
		{"LexicalOnlyMatch", testLexicalOnly},
		{"DenseOnlyMatch", testDenseOnly},
		{"HostileQueryText", testHostileQueryText},
		{"EmptyTenant", testEmptyTenant},
		{"StagedHiddenUntilPublished", testStagedHiddenUntilPublished},
		{"PublishNeverGoesBack", testPublishNeverGoesBack},
		{"PublishLeavesNewerStaged", testPublishLeavesNewerStaged},
		{"PublishOtherTenant", testPublishOtherTenant},
		{"RestagingKeepsSearchable", testRestagingKeepsSearchable},
		{"DeleteDocumentStaged", testDeleteDocumentStaged},
		{"VectorsByHash", testVectorsByHash},
		{"Candidates", testCandidates},
		{"RanksByFusion", testRanksByFusion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.fn(t, setup(t, newIndex))
		})
	}
}

// bundle is what each contract test gets: the index, tenants no other
// subtest uses, and an embedder for realistic vectors.
type bundle struct {
	ix      retrieval.Index
	ctx     context.Context
	emb     *retrieval.HashEmbedder
	tenantA string
	tenantB string
}

func setup(t *testing.T, newIndex func(t *testing.T) retrieval.Index) *bundle {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	suffix := fmt.Sprintf("%s-%d", strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()), rand.Uint64())
	return &bundle{
		ix:      newIndex(t),
		ctx:     ctx,
		emb:     retrieval.NewHashEmbedder(Dim),
		tenantA: "tenant-a-" + suffix,
		tenantB: "tenant-b-" + suffix,
	}
}

// chunk builds an IndexedChunk with a hash-embedded vector of its text.
func (b *bundle) chunk(t *testing.T, tenant, doc string, idx int, text string) retrieval.IndexedChunk {
	t.Helper()
	return retrieval.IndexedChunk{
		ID:         fmt.Sprintf("%s:%s:%d", tenant, doc, idx),
		Tenant:     tenant,
		DocumentID: doc,
		Index:      idx,
		Text:       text,
		Page:       idx + 1,
		Title:      "Title of " + doc,
		Source:     "upload:" + doc + ".txt",
		Vector:     b.embed(t, text),
	}
}

func (b *bundle) embed(t *testing.T, text string) []float32 {
	t.Helper()
	vs, err := b.emb.Embed(b.ctx, []string{text})
	require.NoError(t, err)
	return vs[0]
}

func (b *bundle) upsert(t *testing.T, chunks ...retrieval.IndexedChunk) {
	t.Helper()
	require.NoError(t, b.ix.Upsert(b.ctx, chunks))
}

// search runs a hybrid query (text and its embedding).
func (b *bundle) search(t *testing.T, tenant, text string, topK int, docs ...string) []retrieval.Passage {
	t.Helper()
	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: tenant, Text: text, Vector: b.embed(t, text), TopK: topK, DocumentIDs: docs})
	require.NoError(t, err)
	return ps
}

func chunkIDs(ps []retrieval.Passage) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ChunkID
	}
	return out
}

// corpus is a handful of unrelated paragraphs, for documents that should
// have something to rank against.
var corpus = []string{
	"Workers pull jobs from the queue and retry failures with exponential backoff.",
	"The billing portal lists every invoice and lets administrators download receipts.",
	"Photosynthesis converts light energy into chemical energy stored in glucose.",
	"The lighthouse keeper logged passing ships and the weather every evening.",
	"Sourdough bread needs a lively starter, flour, water, salt and patience.",
	"Rotating API keys regularly limits the damage a leaked secret can do.",
	"Glaciers carve valleys as they advance and leave moraines when they retreat.",
	"The orchestra tuned to the oboe before the conductor raised the baton.",
}

func testPing(t *testing.T, b *bundle) {
	require.NoError(t, b.ix.Ping(b.ctx))
}

func testUpsertIdempotent(t *testing.T, b *bundle) {
	c := b.chunk(t, b.tenantA, "doc1", 0, "Redis persistence uses an append-only file.")
	b.upsert(t, c)
	b.upsert(t, c)
	ps := b.search(t, b.tenantA, "Redis persistence append-only file", 10)
	require.Equal(t, []string{c.ID}, chunkIDs(ps), "upserting twice must leave one chunk")

	// A re-upsert with new text replaces text, vector and lexical terms.
	c.Text = "Snapshots are taken hourly by the scheduler."
	c.Vector = b.embed(t, c.Text)
	b.upsert(t, c)
	ps = b.search(t, b.tenantA, "snapshots hourly scheduler", 10)
	require.Equal(t, []string{c.ID}, chunkIDs(ps))
	require.Equal(t, c.Text, ps[0].Text)
	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: b.tenantA, Text: "persistence append-only", TopK: 10})
	require.NoError(t, err)
	require.Empty(t, ps, "old terms must be gone from the lexical index")
}

func testUpsertEmpty(t *testing.T, b *bundle) {
	require.NoError(t, b.ix.Upsert(b.ctx, nil))
	require.NoError(t, b.ix.Upsert(b.ctx, []retrieval.IndexedChunk{}))
}

func testPassageFields(t *testing.T, b *bundle) {
	c := retrieval.IndexedChunk{
		ID:         b.tenantA + ":doc-fields:7",
		Tenant:     b.tenantA,
		DocumentID: "doc-fields",
		Index:      7,
		Text:       "Größe matters: the café's naïve résumé parser handles UTF-8 🚀 fine.",
		Page:       12,
		Title:      "Ünïcode Title",
		Source:     "https://example.com/a?b=c",
	}
	c.Vector = b.embed(t, c.Text)
	b.upsert(t, c)
	ps := b.search(t, b.tenantA, "résumé parser", 5)
	require.Len(t, ps, 1)
	p := ps[0]
	require.Equal(t, c.DocumentID, p.DocumentID)
	require.Equal(t, c.ID, p.ChunkID)
	require.Equal(t, c.Text, p.Text)
	require.Equal(t, c.Source, p.Source)
	require.Equal(t, c.Title, p.Title)
	require.Equal(t, c.Page, p.Page)
	require.Greater(t, p.Score, 0.0)
}

func testTenantIsolation(t *testing.T, b *bundle) {
	canary := b.chunk(t, b.tenantA, "secret", 0, "Canary phrase: the treasury vault code is kestrel-umber-4471.")
	b.upsert(t, canary)
	var own []retrieval.IndexedChunk
	for i, text := range corpus {
		own = append(own, b.chunk(t, b.tenantB, "public", i, text))
	}
	b.upsert(t, own...)

	// Tenant B searching the canary's exact text, with its exact vector,
	// must get only its own chunks.
	for _, q := range []retrieval.Query{
		{Tenant: b.tenantB, Text: canary.Text, Vector: canary.Vector, TopK: 100},
		{Tenant: b.tenantB, Text: canary.Text, TopK: 100},
		{Tenant: b.tenantB, Vector: canary.Vector, TopK: 100},
		{Tenant: b.tenantB, Text: canary.Text, Vector: canary.Vector, TopK: 100, DocumentIDs: []string{"secret"}},
	} {
		ps, err := retrieval.Search(b.ctx, b.ix, q)
		require.NoError(t, err)
		for _, p := range ps {
			require.NotEqual(t, canary.ID, p.ChunkID)
			require.NotContains(t, p.Text, "kestrel")
			require.Equal(t, "public", p.DocumentID)
		}
	}
	// The owner finds it.
	ps := b.search(t, b.tenantA, "treasury vault code", 5)
	require.Equal(t, []string{canary.ID}, chunkIDs(ps))
}

func testSearchWithoutTenant(t *testing.T, b *bundle) {
	b.upsert(t, b.chunk(t, b.tenantA, "doc", 0, "Anything at all."))
	_, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Text: "anything", Vector: b.embed(t, "anything"), TopK: 5})
	require.Error(t, err)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
}

func testDeleteDocument(t *testing.T, b *bundle) {
	var chunks []retrieval.IndexedChunk
	for i := range 3 {
		chunks = append(chunks, b.chunk(t, b.tenantA, "doomed", i, fmt.Sprintf("Doomed chunk %d about glaciers and valleys.", i)))
	}
	for i := range 2 {
		chunks = append(chunks, b.chunk(t, b.tenantA, "kept", i, fmt.Sprintf("Kept chunk %d about glaciers and moraines.", i)))
	}
	b.upsert(t, chunks...)
	require.Len(t, b.search(t, b.tenantA, "glaciers", 10), 5)

	require.NoError(t, b.ix.DeleteDocument(b.ctx, b.tenantA, "doomed"))
	ps := b.search(t, b.tenantA, "doomed glaciers valleys chunk", 10)
	require.ElementsMatch(t, []string{chunks[3].ID, chunks[4].ID}, chunkIDs(ps))
	// Dense-only search must not return the deleted vectors either.
	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: b.tenantA, Vector: chunks[0].Vector, TopK: 10})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{chunks[3].ID, chunks[4].ID}, chunkIDs(ps))

	// Deleting again, or a document that never existed, is fine.
	require.NoError(t, b.ix.DeleteDocument(b.ctx, b.tenantA, "doomed"))
	require.NoError(t, b.ix.DeleteDocument(b.ctx, b.tenantA, "never-existed"))
	// And a deleted document can be indexed again.
	b.upsert(t, chunks[0])
	require.Contains(t, chunkIDs(b.search(t, b.tenantA, "doomed glaciers", 10)), chunks[0].ID)
}

func testDeleteDocumentOtherTenant(t *testing.T, b *bundle) {
	a := b.chunk(t, b.tenantA, "shared-doc-id", 0, "Tenant A owns this paragraph about lighthouses.")
	bb := b.chunk(t, b.tenantB, "shared-doc-id", 0, "Tenant B owns this paragraph about lighthouses.")
	b.upsert(t, a, bb)
	require.NoError(t, b.ix.DeleteDocument(b.ctx, b.tenantB, "shared-doc-id"))
	require.Equal(t, []string{a.ID}, chunkIDs(b.search(t, b.tenantA, "lighthouses", 5)))
	require.Empty(t, b.search(t, b.tenantB, "lighthouses", 5))
}
