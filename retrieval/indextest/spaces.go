package indextest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// RunSpaces runs the contract suite of retrieval.Spaces against the
// implementation that newSpaces returns. newSpaces is called once per
// subtest and must return Spaces that hold no space yet and that no other
// subtest sees (a fresh database, a collection prefix of its own).
func RunSpaces(t *testing.T, newSpaces func(t *testing.T) retrieval.Spaces) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, b *spacesBundle)
	}{
		{"OpenCreatesEmpty", testSpacesOpenCreatesEmpty},
		{"ReopenKeepsData", testSpacesReopenKeepsData},
		{"OpenOtherDim", testSpacesOpenOtherDim},
		{"LiveUnset", testSpacesLiveUnset},
		{"SetLive", testSpacesSetLive},
		{"SetLiveUnopened", testSpacesSetLiveUnopened},
		{"SwitchWhileFilling", testSpacesSwitchWhileFilling},
		{"SpacesIsolated", testSpacesIsolated},
		{"DropLiveConflicts", testSpacesDropLive},
		{"DropRemovesData", testSpacesDropRemovesData},
		{"DropMissing", testSpacesDropMissing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			t.Cleanup(cancel)
			tt.fn(t, &spacesBundle{sp: newSpaces(t), ctx: ctx, tenant: "tenant-spaces"})
		})
	}
}

// spacesBundle is what each Spaces contract test gets.
type spacesBundle struct {
	sp     retrieval.Spaces
	ctx    context.Context
	tenant string
}

// The spaces the suite uses: two dimensions, as a re-embedding with a new
// model would have.
var (
	spaceOld = retrieval.Space{Name: "hash-384", Embedder: "hash:384", Dim: Dim}
	spaceNew = retrieval.Space{Name: "hash-256", Embedder: "hash:256", Dim: 256}
)

func (b *spacesBundle) open(t *testing.T, s retrieval.Space) retrieval.Index {
	t.Helper()
	ix, err := b.sp.Open(b.ctx, s)
	require.NoError(t, err, "open %s", s.Name)
	require.NotNil(t, ix)
	return ix
}

// fill upserts one searchable chunk per text into ix, embedded for space s,
// with IDs prefixed by s.Name.
func (b *spacesBundle) fill(t *testing.T, ix retrieval.Index, s retrieval.Space, texts ...string) {
	t.Helper()
	emb := retrieval.NewHashEmbedder(s.Dim)
	vecs, err := emb.Embed(b.ctx, texts)
	require.NoError(t, err)
	chunks := make([]retrieval.IndexedChunk, len(texts))
	for i, text := range texts {
		chunks[i] = retrieval.IndexedChunk{
			ID:         fmt.Sprintf("%s:doc:%d", s.Name, i),
			Tenant:     b.tenant,
			DocumentID: "doc-" + s.Name,
			Version:    1,
			Index:      i,
			Text:       text,
			Title:      "Title",
			Source:     "upload:doc.txt",
			Vector:     vecs[i],
		}
	}
	require.NoError(t, ix.Upsert(b.ctx, chunks))
}

// find runs a hybrid search for text in ix, embedded for space s, and
// returns the best hit's chunk ID (none when nothing matched).
func (b *spacesBundle) find(t *testing.T, ix retrieval.Index, s retrieval.Space, text string) []string {
	t.Helper()
	return b.search(t, ix, s, text, 1)
}

// all is find returning every hit, up to 10.
func (b *spacesBundle) all(t *testing.T, ix retrieval.Index, s retrieval.Space, text string) []string {
	t.Helper()
	return b.search(t, ix, s, text, 10)
}

func (b *spacesBundle) search(t *testing.T, ix retrieval.Index, s retrieval.Space, text string, topK int) []string {
	t.Helper()
	vecs, err := retrieval.NewHashEmbedder(s.Dim).Embed(b.ctx, []string{text})
	require.NoError(t, err)
	ps, err := retrieval.Search(b.ctx, ix, retrieval.Query{Tenant: b.tenant, Text: text, Vector: vecs[0], TopK: topK})
	require.NoError(t, err)
	return chunkIDs(ps)
}

func (b *spacesBundle) names(t *testing.T) []string {
	t.Helper()
	spaces, err := b.sp.List(b.ctx)
	require.NoError(t, err)
	out := make([]string, len(spaces))
	for i, s := range spaces {
		out[i] = s.Name
	}
	slices.Sort(out)
	return out
}

func testSpacesOpenCreatesEmpty(t *testing.T, b *spacesBundle) {
	require.Empty(t, b.names(t), "newSpaces must start without spaces")
	ix := b.open(t, spaceOld)
	require.NoError(t, ix.Ping(b.ctx))
	require.Empty(t, b.all(t, ix, spaceOld, "glaciers carve valleys"))
	spaces, err := b.sp.List(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []retrieval.Space{spaceOld}, spaces, "List returns the space as opened, embedder and dim included")
}

func testSpacesReopenKeepsData(t *testing.T, b *spacesBundle) {
	ix := b.open(t, spaceOld)
	b.fill(t, ix, spaceOld, "Glaciers carve valleys as they advance.")
	again := b.open(t, spaceOld)
	require.Equal(t, []string{"hash-384:doc:0"}, b.find(t, again, spaceOld, "glaciers valleys"))
	require.Equal(t, []string{spaceOld.Name}, b.names(t), "opening twice makes one space")
}

func testSpacesOpenOtherDim(t *testing.T, b *spacesBundle) {
	b.open(t, spaceOld)
	other := spaceOld
	other.Dim = 128
	_, err := b.sp.Open(b.ctx, other)
	require.Error(t, err)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	// The existing space is untouched.
	spaces, err := b.sp.List(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []retrieval.Space{spaceOld}, spaces)
}

func testSpacesLiveUnset(t *testing.T, b *spacesBundle) {
	_, ok, err := b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.False(t, ok)
	b.open(t, spaceOld)
	_, ok, err = b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.False(t, ok, "opening a space does not make it live")
}

func testSpacesSetLive(t *testing.T, b *spacesBundle) {
	b.open(t, spaceOld)
	require.NoError(t, b.sp.SetLive(b.ctx, spaceOld))
	live, ok, err := b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, spaceOld, live)
	// Setting it again is harmless.
	require.NoError(t, b.sp.SetLive(b.ctx, spaceOld))
	live, ok, err = b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, spaceOld, live)
}

func testSpacesSetLiveUnopened(t *testing.T, b *spacesBundle) {
	require.Error(t, b.sp.SetLive(b.ctx, spaceNew), "a space that was never opened cannot be live")
	_, ok, err := b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.False(t, ok)
}

// testSpacesSwitchWhileFilling is the re-embedding story: the old space
// answers while the new one fills, SetLive switches, the old one can go.
func testSpacesSwitchWhileFilling(t *testing.T, b *spacesBundle) {
	oldIx := b.open(t, spaceOld)
	b.fill(t, oldIx, spaceOld, "Sourdough bread needs a lively starter.", "The lighthouse keeper logged ships.")
	require.NoError(t, b.sp.SetLive(b.ctx, spaceOld))

	newIx := b.open(t, spaceNew)
	b.fill(t, newIx, spaceNew, "Sourdough bread needs a lively starter.")
	// While the new space fills, the old one keeps answering, and stays live.
	require.Equal(t, []string{"hash-384:doc:0"}, b.find(t, oldIx, spaceOld, "sourdough starter"))
	live, ok, err := b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, spaceOld, live)
	require.Equal(t, []string{spaceNew.Name, spaceOld.Name}, b.names(t))
	spaces, err := b.sp.List(b.ctx)
	require.NoError(t, err)
	require.ElementsMatch(t, []retrieval.Space{spaceOld, spaceNew}, spaces)

	b.fill(t, newIx, spaceNew, "Sourdough bread needs a lively starter.", "The lighthouse keeper logged ships.")
	require.NoError(t, b.sp.SetLive(b.ctx, spaceNew))
	live, ok, err = b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, spaceNew, live)
	require.Equal(t, []string{"hash-256:doc:1"}, b.find(t, newIx, spaceNew, "lighthouse keeper"))
	// The old space is no longer live but still there until dropped.
	require.Equal(t, []string{"hash-384:doc:1"}, b.find(t, oldIx, spaceOld, "lighthouse keeper"))

	require.NoError(t, b.sp.Drop(b.ctx, spaceOld.Name))
	require.Equal(t, []string{spaceNew.Name}, b.names(t))
	require.Equal(t, []string{"hash-256:doc:0"}, b.find(t, newIx, spaceNew, "sourdough starter"))
}

func testSpacesIsolated(t *testing.T, b *spacesBundle) {
	oldIx := b.open(t, spaceOld)
	newIx := b.open(t, spaceNew)
	b.fill(t, oldIx, spaceOld, "Photosynthesis converts light energy.")
	require.Empty(t, b.all(t, newIx, spaceNew, "photosynthesis light energy"), "a space sees only its own chunks")
	require.Equal(t, []string{"hash-384:doc:0"}, b.all(t, oldIx, spaceOld, "photosynthesis light energy"))
}

func testSpacesDropLive(t *testing.T, b *spacesBundle) {
	ix := b.open(t, spaceOld)
	b.fill(t, ix, spaceOld, "Rotating API keys limits damage.")
	require.NoError(t, b.sp.SetLive(b.ctx, spaceOld))
	err := b.sp.Drop(b.ctx, spaceOld.Name)
	require.Error(t, err)
	require.Equal(t, ragqueue.ECONFLICT, ragqueue.ErrorCode(err))
	// Nothing was dropped.
	require.Equal(t, []string{spaceOld.Name}, b.names(t))
	require.Equal(t, []string{"hash-384:doc:0"}, b.find(t, ix, spaceOld, "rotating keys"))
	live, ok, err := b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, spaceOld, live)
}

func testSpacesDropRemovesData(t *testing.T, b *spacesBundle) {
	ix := b.open(t, spaceNew)
	b.fill(t, ix, spaceNew, "The orchestra tuned to the oboe.")
	require.NoError(t, b.sp.Drop(b.ctx, spaceNew.Name))
	require.Empty(t, b.names(t))
	// Opened again, the space starts empty.
	again := b.open(t, spaceNew)
	require.Empty(t, b.all(t, again, spaceNew, "orchestra oboe"))
	require.Equal(t, []string{spaceNew.Name}, b.names(t))
}

func testSpacesDropMissing(t *testing.T, b *spacesBundle) {
	require.NoError(t, b.sp.Drop(b.ctx, "never-opened"))
	b.open(t, spaceOld)
	require.NoError(t, b.sp.Drop(b.ctx, "never-opened"))
	require.Equal(t, []string{spaceOld.Name}, b.names(t))
}
