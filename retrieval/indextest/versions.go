package indextest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

// The version tests of Run: staged chunks, PublishVersion, VectorsByHash.

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
