// Package indextest is the contract every retrieval.Index implementation
// must pass: the embedded SQLite index and the Qdrant adapter run the same
// suite, so that switching adapters cannot change what search means.
package indextest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
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

// versioned builds chunk idx of a document version, staged or not, with a
// content hash derived from its text.
func (b *bundle) versioned(t *testing.T, tenant, doc string, version, idx int, text string, staged bool) retrieval.IndexedChunk {
	t.Helper()
	c := b.chunk(t, tenant, doc, idx, text)
	c.ID = fmt.Sprintf("%s:%s:v%d:%d", tenant, doc, version, idx)
	c.Version = version
	c.ContentHash = "hash:" + text
	c.Staged = staged
	return c
}

// allOf runs the searches a client can make (hybrid, lexical only, dense
// only, filtered by document) and returns every chunk ID they found.
func (b *bundle) allOf(t *testing.T, tenant, text string, docs ...string) []string {
	t.Helper()
	vec := b.embed(t, text)
	seen := map[string]bool{}
	var out []string
	queries := []retrieval.Query{
		{Tenant: tenant, Text: text, Vector: vec, TopK: 100},
		{Tenant: tenant, Text: text, TopK: 100},
		{Tenant: tenant, Vector: vec, TopK: 100},
	}
	if len(docs) > 0 {
		queries = append(queries, retrieval.Query{Tenant: tenant, Text: text, Vector: vec, TopK: 100, DocumentIDs: docs})
	}
	for _, q := range queries {
		ps, err := retrieval.Search(b.ctx, b.ix, q)
		require.NoError(t, err)
		for _, p := range ps {
			if !seen[p.ChunkID] {
				seen[p.ChunkID] = true
				out = append(out, p.ChunkID)
			}
		}
	}
	return out
}

func ids(chunks ...retrieval.IndexedChunk) []string {
	out := make([]string, len(chunks))
	for i, c := range chunks {
		out[i] = c.ID
	}
	return out
}

func testStagedHiddenUntilPublished(t *testing.T, b *bundle) {
	v1 := []retrieval.IndexedChunk{
		b.versioned(t, b.tenantA, "manual", 1, 0, "The pump valve is calibrated monthly.", false),
		b.versioned(t, b.tenantA, "manual", 1, 1, "Filters are replaced every quarter of the pump year.", false),
	}
	b.upsert(t, v1...)
	require.ElementsMatch(t, ids(v1...), b.allOf(t, b.tenantA, "pump valve filters", "manual"))

	// A new version, written staged: searches still see version 1 only.
	v2 := []retrieval.IndexedChunk{
		b.versioned(t, b.tenantA, "manual", 2, 0, "The pump valve is calibrated monthly.", true),
		b.versioned(t, b.tenantA, "manual", 2, 1, "Filters of the pump are replaced every week now.", true),
		b.versioned(t, b.tenantA, "manual", 2, 2, "A third pump chunk about the new impeller.", true),
	}
	b.upsert(t, v2...)
	require.ElementsMatch(t, ids(v1...), b.allOf(t, b.tenantA, "pump valve filters impeller", "manual"))

	// The switch: version 2 only, on every search path.
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantA, "manual", 2))
	require.ElementsMatch(t, ids(v2...), b.allOf(t, b.tenantA, "pump valve filters impeller", "manual"))
	ps := b.search(t, b.tenantA, "impeller", 5)
	require.NotEmpty(t, ps)
	require.Equal(t, v2[2].ID, ps[0].ChunkID)
	require.Equal(t, v2[2].Text, ps[0].Text)

	// Publishing again changes nothing.
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantA, "manual", 2))
	require.ElementsMatch(t, ids(v2...), b.allOf(t, b.tenantA, "pump valve filters impeller", "manual"))
	// Publishing a document without chunks is no error.
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantA, "never-written", 3))
}

func testPublishNeverGoesBack(t *testing.T, b *bundle) {
	v2 := b.versioned(t, b.tenantA, "doc", 2, 0, "Lighthouse keepers log the weather.", true)
	b.upsert(t, v2)
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantA, "doc", 2))
	// A stale job of version 1 writes and publishes late.
	v1 := b.versioned(t, b.tenantA, "doc", 1, 0, "Lighthouse keepers used to log ships.", true)
	b.upsert(t, v1)
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantA, "doc", 1))
	require.Equal(t, []string{v2.ID}, b.allOf(t, b.tenantA, "lighthouse keepers log", "doc"))
}

func testPublishLeavesNewerStaged(t *testing.T, b *bundle) {
	v1 := b.versioned(t, b.tenantA, "doc", 1, 0, "Glaciers carve valleys slowly.", false)
	v2 := b.versioned(t, b.tenantA, "doc", 2, 0, "Glaciers carve valleys and leave moraines.", true)
	v3 := b.versioned(t, b.tenantA, "doc", 3, 0, "Glaciers retreat in warm centuries.", true)
	b.upsert(t, v1, v2, v3)
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantA, "doc", 2))
	require.Equal(t, []string{v2.ID}, b.allOf(t, b.tenantA, "glaciers valleys retreat", "doc"))
	// Version 3's staged chunk survived version 2's switch.
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantA, "doc", 3))
	require.Equal(t, []string{v3.ID}, b.allOf(t, b.tenantA, "glaciers valleys retreat", "doc"))
}

func testPublishOtherTenant(t *testing.T, b *bundle) {
	a1 := b.versioned(t, b.tenantA, "shared", 1, 0, "Orchestra tunes to the oboe.", false)
	b1 := b.versioned(t, b.tenantB, "shared", 1, 0, "Orchestra tunes to the piano.", false)
	b2 := b.versioned(t, b.tenantB, "shared", 2, 0, "Orchestra tunes to the violin.", true)
	a2 := b.versioned(t, b.tenantA, "shared", 2, 0, "Orchestra tunes to the harp.", true)
	b.upsert(t, a1, b1, b2, a2)
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantB, "shared", 2))
	require.Equal(t, []string{b2.ID}, b.allOf(t, b.tenantB, "orchestra tunes"))
	require.Equal(t, []string{a1.ID}, b.allOf(t, b.tenantA, "orchestra tunes"), "another tenant's document switched")
}

func testRestagingKeepsSearchable(t *testing.T, b *bundle) {
	c := b.versioned(t, b.tenantA, "doc", 1, 0, "Sourdough needs a lively starter.", true)
	b.upsert(t, c)
	require.Empty(t, b.allOf(t, b.tenantA, "sourdough starter"), "staged chunks answer nothing")
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantA, "doc", 1))
	require.Equal(t, []string{c.ID}, b.allOf(t, b.tenantA, "sourdough starter"))

	// A job that runs again writes the same chunk staged: it stays
	// searchable, with the new text and vector.
	c.Text = "Sourdough needs flour, water and salt."
	c.Vector = b.embed(t, c.Text)
	b.upsert(t, c)
	ps := b.search(t, b.tenantA, "flour water salt", 5)
	require.Equal(t, []string{c.ID}, chunkIDs(ps))
	require.Equal(t, c.Text, ps[0].Text)
	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: b.tenantA, Vector: c.Vector, TopK: 1})
	require.NoError(t, err)
	require.Equal(t, []string{c.ID}, chunkIDs(ps))
}

func testDeleteDocumentStaged(t *testing.T, b *bundle) {
	v1 := b.versioned(t, b.tenantA, "doc", 1, 0, "Photosynthesis stores energy in glucose.", false)
	v2 := b.versioned(t, b.tenantA, "doc", 2, 0, "Photosynthesis needs light and water.", true)
	b.upsert(t, v1, v2)
	require.NoError(t, b.ix.DeleteDocument(b.ctx, b.tenantA, "doc"))
	require.Empty(t, b.allOf(t, b.tenantA, "photosynthesis glucose light"))
	got, err := b.ix.VectorsByHash(b.ctx, b.tenantA, "doc", []string{v1.ContentHash, v2.ContentHash})
	require.NoError(t, err)
	require.Empty(t, got, "staged chunks outlived their document")
	// A job finishing after the delete publishes nothing.
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantA, "doc", 2))
	require.Empty(t, b.allOf(t, b.tenantA, "photosynthesis glucose light"))
}

func testVectorsByHash(t *testing.T, b *bundle) {
	pub := b.versioned(t, b.tenantA, "doc", 1, 0, "Rotating API keys limits damage.", false)
	staged := b.versioned(t, b.tenantA, "doc", 2, 1, "Leaked secrets must be revoked.", true)
	otherDoc := b.versioned(t, b.tenantA, "other", 1, 0, "Billing portal invoices.", false)
	otherTenant := b.versioned(t, b.tenantB, "doc", 1, 0, "Glaciers and moraines.", false)
	noHash := b.versioned(t, b.tenantA, "doc", 1, 2, "A chunk without a hash.", false)
	noHash.ContentHash = ""
	b.upsert(t, pub, staged, otherDoc, otherTenant, noHash)

	got, err := b.ix.VectorsByHash(b.ctx, b.tenantA, "doc", []string{
		pub.ContentHash, staged.ContentHash, otherDoc.ContentHash, otherTenant.ContentHash, "hash:unknown", "", pub.ContentHash,
	})
	require.NoError(t, err)
	require.Len(t, got, 2, "only this document's chunks, staged or searchable")
	require.Equal(t, pub.Vector, got[pub.ContentHash])
	require.Equal(t, staged.Vector, got[staged.ContentHash])

	got, err = b.ix.VectorsByHash(b.ctx, b.tenantA, "doc", nil)
	require.NoError(t, err)
	require.Empty(t, got)
	got, err = b.ix.VectorsByHash(b.ctx, b.tenantA, "never-written", []string{pub.ContentHash})
	require.NoError(t, err)
	require.Empty(t, got)

	// Many hashes at once (a long document's batch).
	many := make([]string, 2000)
	for i := range many {
		many[i] = fmt.Sprintf("hash:missing-%d", i)
	}
	many[1500] = pub.ContentHash
	got, err = b.ix.VectorsByHash(b.ctx, b.tenantA, "doc", many)
	require.NoError(t, err)
	require.Len(t, got, 1)

	// Published, the staged chunk is still found; the older version's is
	// gone with its chunk.
	require.NoError(t, b.ix.PublishVersion(b.ctx, b.tenantA, "doc", 2))
	got, err = b.ix.VectorsByHash(b.ctx, b.tenantA, "doc", []string{pub.ContentHash, staged.ContentHash})
	require.NoError(t, err)
	require.Equal(t, map[string][]float32{staged.ContentHash: staged.Vector}, got)
}
