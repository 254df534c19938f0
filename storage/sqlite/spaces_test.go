package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

// spacesBundle is what a spaces test works with: one database file and its
// spaces.
type spacesBundle struct {
	ctx context.Context
	db  *DB
	sp  *Spaces
}

func setupSpaces(t *testing.T, opts SpacesOptions) *spacesBundle {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "db.sqlite"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	sp := NewSpaces(db, opts)
	t.Cleanup(func() { _ = sp.Close() })
	return &spacesBundle{ctx: ctx, db: db, sp: sp}
}

// chunksOf embeds texts as chunks of one document of tenant in space dim.
func chunksOf(t *testing.T, dim int, tenant, doc string, texts ...string) []retrieval.IndexedChunk {
	t.Helper()
	vecs, err := retrieval.NewHashEmbedder(dim).Embed(context.Background(), texts)
	require.NoError(t, err)
	out := make([]retrieval.IndexedChunk, len(texts))
	for i, text := range texts {
		out[i] = retrieval.IndexedChunk{ID: fmt.Sprintf("%s-%d", doc, i), Tenant: tenant, DocumentID: doc, Index: i, Text: text, Vector: vecs[i]}
	}
	return out
}

func chunkIDs(ps []retrieval.Passage) []string {
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ChunkID
	}
	return ids
}

// countRows counts the rows a space has left in every index table.
func countRows(t *testing.T, db *DB, sid int64) (chunks, gens, spaces int) {
	t.Helper()
	require.NoError(t, db.read.QueryRow(`SELECT count(*) FROM index_chunks WHERE space_id = ?`, sid).Scan(&chunks))
	require.NoError(t, db.read.QueryRow(`SELECT count(*) FROM index_generations WHERE space_id = ?`, sid).Scan(&gens))
	require.NoError(t, db.read.QueryRow(`SELECT count(*) FROM index_spaces WHERE sid = ?`, sid).Scan(&spaces))
	return chunks, gens, spaces
}

func TestSpacesLifecycle(t *testing.T) {
	t.Parallel()
	b := setupSpaces(t, SpacesOptions{})
	_, ok, err := b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.False(t, ok, "a new file has no live space")

	oldSpace := retrieval.Space{Name: "hash-32", Embedder: "hash:32", Dim: 32}
	newSpace := retrieval.Space{Name: "hash-64", Embedder: "hash:64", Dim: 64}
	oldIx, err := b.sp.OpenIndex(b.ctx, oldSpace)
	require.NoError(t, err)
	require.NoError(t, b.sp.SetLive(b.ctx, oldSpace))
	texts := []string{"Glaciers carve deep valleys.", "Orchestras tune to the oboe."}
	require.NoError(t, oldIx.Upsert(b.ctx, chunksOf(t, 32, "t", "d", texts...)))

	// The re-index: the same chunk IDs in a new space, while the old one
	// keeps answering from its own rows.
	newIx, err := b.sp.OpenIndex(b.ctx, newSpace)
	require.NoError(t, err)
	rebuilt := chunksOf(t, 64, "t", "d", "Glaciers carve deep valleys, rebuilt.", "Orchestras tune to the oboe, rebuilt.")
	require.NoError(t, newIx.Upsert(b.ctx, rebuilt))
	q32 := chunksOf(t, 32, "t", "q", "glaciers")[0].Vector
	ps, err := retrieval.Search(b.ctx, oldIx, retrieval.Query{Tenant: "t", Text: "glaciers", Vector: q32, TopK: 10})
	require.NoError(t, err)
	require.Len(t, ps, 2)
	require.Equal(t, "Glaciers carve deep valleys.", ps[0].Text)
	ps, err = retrieval.Search(b.ctx, newIx, retrieval.Query{Tenant: "t", Text: "rebuilt", TopK: 10})
	require.NoError(t, err)
	require.Len(t, ps, 2, "lexical search of one space never sees another space's rows")

	live, ok, err := b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, oldSpace, live)
	spaces, err := b.sp.List(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []retrieval.Space{oldSpace, newSpace}, spaces)

	err = b.sp.Drop(b.ctx, oldSpace.Name)
	require.Equal(t, ragqueue.ECONFLICT, ragqueue.ErrorCode(err), "the live space cannot be dropped")

	require.NoError(t, b.sp.SetLive(b.ctx, newSpace))
	live, _, err = b.sp.Live(b.ctx)
	require.NoError(t, err)
	require.Equal(t, newSpace, live)
	oldSID := oldIx.sid
	require.NoError(t, b.sp.Drop(b.ctx, oldSpace.Name))
	chunks, gens, rows := countRows(t, b.db, oldSID)
	require.Zero(t, chunks+gens+rows, "nothing of the dropped space is left")
	spaces, err = b.sp.List(b.ctx)
	require.NoError(t, err)
	require.Equal(t, []retrieval.Space{newSpace}, spaces)
	require.NoError(t, b.sp.Drop(b.ctx, oldSpace.Name), "dropping a missing space does nothing")

	// A handle on the dropped space answers empty and refuses writes.
	ps, err = retrieval.Search(b.ctx, oldIx, retrieval.Query{Tenant: "t", Text: "glaciers", Vector: q32, TopK: 10})
	require.NoError(t, err)
	require.Empty(t, ps)
	require.Error(t, oldIx.Upsert(b.ctx, chunksOf(t, 32, "t", "late", "written after the drop")))

	// The new space is untouched.
	ps, err = retrieval.Search(b.ctx, newIx, retrieval.Query{Tenant: "t", Text: "oboe", TopK: 10})
	require.NoError(t, err)
	require.Equal(t, []string{"d-1"}, chunkIDs(ps))
}

func TestSpacesRefusals(t *testing.T) {
	t.Parallel()
	b := setupSpaces(t, SpacesOptions{})
	_, err := b.sp.Open(b.ctx, retrieval.Space{Name: "hash-8", Dim: 8})
	require.NoError(t, err)
	tests := []struct {
		name string
		call func() error
		code string
	}{
		{"other dimension", func() error { _, err := b.sp.Open(b.ctx, retrieval.Space{Name: "hash-8", Dim: 16}); return err }, ragqueue.EINVALID},
		{"empty name", func() error { _, err := b.sp.Open(b.ctx, retrieval.Space{Dim: 8}); return err }, ragqueue.EINVALID},
		{"upper case", func() error { _, err := b.sp.Open(b.ctx, retrieval.Space{Name: "Hash", Dim: 8}); return err }, ragqueue.EINVALID},
		{"path", func() error { _, err := b.sp.Open(b.ctx, retrieval.Space{Name: "../x", Dim: 8}); return err }, ragqueue.EINVALID},
		{"no dimension", func() error { _, err := b.sp.Open(b.ctx, retrieval.Space{Name: "x"}); return err }, ragqueue.EINVALID},
		{"live unknown", func() error { return b.sp.SetLive(b.ctx, retrieval.Space{Name: "nope", Dim: 8}) }, ragqueue.ENOTFOUND},
		{"live wrong dim", func() error { return b.sp.SetLive(b.ctx, retrieval.Space{Name: "hash-8", Dim: 9}) }, ragqueue.EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.code, ragqueue.ErrorCode(tt.call()))
		})
	}
}

// TestSpacesSecondProcess: a process that opened a space before another
// process dropped and re-created it gets the new space on its next Open.
func TestSpacesSecondProcess(t *testing.T) {
	t.Parallel()
	b := setupSpaces(t, SpacesOptions{})
	s := retrieval.Space{Name: "hash-8", Embedder: "hash:8", Dim: 8}
	first, err := b.sp.OpenIndex(b.ctx, s)
	require.NoError(t, err)

	other := NewSpaces(b.db, SpacesOptions{})
	t.Cleanup(func() { _ = other.Close() })
	require.NoError(t, other.Drop(b.ctx, s.Name))
	again, err := other.OpenIndex(b.ctx, s)
	require.NoError(t, err)
	require.NoError(t, again.Upsert(b.ctx, chunksOf(t, 8, "t", "d", "fresh text")))

	reopened, err := b.sp.OpenIndex(b.ctx, s)
	require.NoError(t, err)
	require.NotSame(t, first, reopened)
	ps, err := retrieval.Search(b.ctx, reopened, retrieval.Query{Tenant: "t", Text: "fresh", TopK: 5})
	require.NoError(t, err)
	require.Equal(t, []string{"d-0"}, chunkIDs(ps))
}

// TestSpacesMigrationAdoptsExistingIndex builds a data file as ragqueue
// wrote it before spaces (migration 00007), then opens it: its chunks are
// the live space "hash-<dim>", found lexically and densely.
func TestSpacesMigrationAdoptsExistingIndex(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.sqlite")
	raw, err := sql.Open("sqlite", "file:"+path)
	require.NoError(t, err)
	p, err := goose.NewProvider(goose.DialectSQLite3, raw, mustSub(migrations, "migrations"))
	require.NoError(t, err)
	_, err = p.UpTo(ctx, 7)
	require.NoError(t, err)
	const dim = 16
	chunks := chunksOf(t, dim, "acme", "doc", "Lighthouses guide ships at night.", "Bread needs a sourdough starter.")
	for i, c := range chunks {
		_, err = raw.Exec(`INSERT INTO index_chunks (rid, id, tenant, document_id, idx, text, vector, version) VALUES (?, ?, ?, ?, ?, ?, ?, 1)`,
			i+1, c.ID, c.Tenant, c.DocumentID, c.Index, c.Text, storage.AppendVector(nil, c.Vector))
		require.NoError(t, err)
	}
	_, err = raw.Exec(`INSERT INTO index_generations (tenant, gen) VALUES ('acme', 3)`)
	require.NoError(t, err)
	require.NoError(t, raw.Close())

	db, err := Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	sp := NewSpaces(db, SpacesOptions{})
	t.Cleanup(func() { _ = sp.Close() })
	live, ok, err := sp.Live(ctx)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, retrieval.Space{Name: "hash-16", Embedder: "hash:16", Dim: dim}, live)

	ix, err := NewIndex(ctx, db, dim)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() })
	ps, err := retrieval.Search(ctx, ix, retrieval.Query{Tenant: "acme", Text: "lighthouses", TopK: 5})
	require.NoError(t, err)
	require.Equal(t, []string{"doc-0"}, chunkIDs(ps), "the old texts answer lexically")
	ps, err = retrieval.Search(ctx, ix, retrieval.Query{Tenant: "acme", Vector: chunks[1].Vector, TopK: 1})
	require.NoError(t, err)
	require.Equal(t, []string{"doc-1"}, chunkIDs(ps), "the old vectors still answer")

	// Another embedder on the same file is refused while the old space
	// holds chunks, as before spaces.
	_, err = NewIndex(ctx, db, 32)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.ErrorContains(t, err, "16-dimensional")
}

// TestIndexCacheBudget: with room for one tenant's vectors, searching two
// tenants keeps only the last one cached, and both still answer right.
func TestIndexCacheBudget(t *testing.T) {
	t.Parallel()
	b := setupSpaces(t, SpacesOptions{CacheBytes: 1})
	ix, err := b.sp.OpenIndex(b.ctx, retrieval.Space{Name: "hash-8", Dim: 8})
	require.NoError(t, err)
	a := chunksOf(t, 8, "a", "da", "alpha one", "alpha two")
	c := chunksOf(t, 8, "c", "dc", "gamma one")
	require.NoError(t, ix.Upsert(b.ctx, append(a, c...)))
	for range 2 {
		for _, tc := range []struct {
			tenant string
			vec    []float32
			want   string
		}{{"a", a[1].Vector, "da-1"}, {"c", c[0].Vector, "dc-0"}} {
			ps, err := retrieval.Search(b.ctx, ix, retrieval.Query{Tenant: tc.tenant, Vector: tc.vec, TopK: 1})
			require.NoError(t, err)
			require.Equal(t, []string{tc.want}, chunkIDs(ps))
			ix.cache.mu.RLock()
			_, cached := ix.cache.sets[tc.tenant]
			n := len(ix.cache.sets)
			ix.cache.mu.RUnlock()
			require.True(t, cached)
			require.Equal(t, 1, n, "the budget holds one tenant")
		}
	}
}
