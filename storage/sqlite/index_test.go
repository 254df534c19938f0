package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/retrieval/indextest"
)

// indexBundle is what an index test works with: one database file and an
// index over it.
type indexBundle struct {
	ctx  context.Context
	path string
	db   *DB
	ix   *Index
	emb  *retrieval.HashEmbedder
}

func setupIndex(t testing.TB, dim int) *indexBundle {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "db.sqlite")
	db, err := Open(ctx, path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ix, err := NewIndex(ctx, db, dim)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ix.Close() }) // runs before db.Close: cleanups are LIFO
	return &indexBundle{ctx: ctx, path: path, db: db, ix: ix, emb: retrieval.NewHashEmbedder(dim)}
}

func (b *indexBundle) chunk(t testing.TB, tenant, doc string, idx int, text string) retrieval.IndexedChunk {
	t.Helper()
	vs, err := b.emb.Embed(b.ctx, []string{text})
	require.NoError(t, err)
	return retrieval.IndexedChunk{
		ID: fmt.Sprintf("%s:%s:%d", tenant, doc, idx), Tenant: tenant, DocumentID: doc,
		Index: idx, Text: text, Vector: vs[0],
	}
}

func TestIndexContract(t *testing.T) {
	t.Parallel()
	indextest.Run(t, func(t *testing.T) retrieval.Index {
		return setupIndex(t, indextest.Dim).ix
	})
}

func TestNewIndexChecksDimension(t *testing.T) {
	t.Parallel()
	b := setupIndex(t, 8)
	_, err := NewIndex(b.ctx, b.db, 0)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))

	require.NoError(t, b.ix.Upsert(b.ctx, []retrieval.IndexedChunk{b.chunk(t, "t", "d", 0, "eight dims")}))
	_, err = NewIndex(b.ctx, b.db, 16)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.ErrorContains(t, err, "8-dimensional")
	ix8, err := NewIndex(b.ctx, b.db, 8)
	require.NoError(t, err)
	require.NoError(t, ix8.Close())
}

func TestIndexUpsertValidation(t *testing.T) {
	t.Parallel()
	b := setupIndex(t, 8)
	good := b.chunk(t, "t", "d", 0, "valid chunk")
	tests := []struct {
		name    string
		mutate  func(c *retrieval.IndexedChunk)
		code    string
		message string
	}{
		{"short vector", func(c *retrieval.IndexedChunk) { c.Vector = c.Vector[:3] }, ragqueue.EINVALID, "3-dimensional vector, the index holds 8"},
		{"no vector", func(c *retrieval.IndexedChunk) { c.Vector = nil }, ragqueue.EINVALID, "0-dimensional"},
		{"no tenant", func(c *retrieval.IndexedChunk) { c.Tenant = "" }, ragqueue.EINVALID, "no tenant"},
		{"no id", func(c *retrieval.IndexedChunk) { c.ID = "" }, ragqueue.EINVALID, "without an ID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := good
			tt.mutate(&c)
			// The bad chunk spoils the whole call: nothing is written.
			err := b.ix.Upsert(b.ctx, []retrieval.IndexedChunk{b.chunk(t, "t", "other-"+tt.name, 0, "fine"), c})
			require.Equal(t, tt.code, ragqueue.ErrorCode(err))
			require.ErrorContains(t, err, tt.message)
		})
	}
	_, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: "t", Vector: make([]float32, 5)})
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.ErrorContains(t, err, "5 dimensions, the index holds 8")
	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: "t", Text: "fine valid", TopK: 10})
	require.NoError(t, err)
	require.Empty(t, ps, "refused upserts wrote nothing")
}

func TestIndexRefusesMovingAChunkAcrossTenants(t *testing.T) {
	t.Parallel()
	b := setupIndex(t, 8)
	c := b.chunk(t, "owner", "d", 0, "owned text")
	require.NoError(t, b.ix.Upsert(b.ctx, []retrieval.IndexedChunk{c}))
	stolen := c
	stolen.Tenant, stolen.Text = "intruder", "overwritten"
	err := b.ix.Upsert(b.ctx, []retrieval.IndexedChunk{stolen})
	require.Equal(t, ragqueue.ECONFLICT, ragqueue.ErrorCode(err))
	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: "owner", Text: "owned", TopK: 5})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, "owned text", ps[0].Text)
}

// TestIndexSharedFile is the api/worker split: two processes, each with its
// own handle and cache, on one file. Writes through one must be seen by
// searches through the other, including updates and deletes after the
// reader has cached the tenant's vectors.
func TestIndexSharedFile(t *testing.T) {
	t.Parallel()
	writer := setupIndex(t, 64)
	db2, err := Open(writer.ctx, writer.path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db2.Close() })
	reader, err := NewIndex(writer.ctx, db2, 64)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reader.Close() })

	search := func(text string, vec []float32) []string {
		t.Helper()
		ps, err := retrieval.Search(writer.ctx, reader, retrieval.Query{Tenant: "t", Text: text, Vector: vec, TopK: 10})
		require.NoError(t, err)
		ids := make([]string, len(ps))
		for i, p := range ps {
			ids[i] = p.ChunkID
		}
		return ids
	}

	require.Empty(t, search("glacier", nil))
	a := writer.chunk(t, "t", "d1", 0, "Glaciers carve valleys.")
	require.NoError(t, writer.ix.Upsert(writer.ctx, []retrieval.IndexedChunk{a}))
	require.Equal(t, []string{a.ID}, search("glaciers", a.Vector))

	// The reader has cached tenant t's vectors now; a new chunk written by
	// the other handle must still be found by vector alone.
	c := writer.chunk(t, "t", "d2", 0, "Orchestras tune to the oboe.")
	require.NoError(t, writer.ix.Upsert(writer.ctx, []retrieval.IndexedChunk{c}))
	ids := search("", c.Vector)
	require.Len(t, ids, 2)
	require.Equal(t, c.ID, ids[0])

	// An update of an existing vector.
	a2 := writer.chunk(t, "t", "d1", 0, "Lighthouses guide ships.")
	require.NoError(t, writer.ix.Upsert(writer.ctx, []retrieval.IndexedChunk{a2}))
	require.Equal(t, a.ID, search("", a2.Vector)[0])

	// A delete.
	require.NoError(t, writer.ix.DeleteDocument(writer.ctx, "t", "d1"))
	require.Equal(t, []string{c.ID}, search("", a2.Vector))

	// And the other direction, after both caches are warm.
	d := writer.chunk(t, "t", "d3", 0, "Sourdough needs a starter.")
	require.NoError(t, reader.Upsert(writer.ctx, []retrieval.IndexedChunk{d}))
	ps, err := retrieval.Search(writer.ctx, writer.ix, retrieval.Query{Tenant: "t", Vector: d.Vector, TopK: 1})
	require.NoError(t, err)
	require.Equal(t, d.ID, ps[0].ChunkID)
}

// TestIndexCacheFollowsOwnWrites checks the in-place cache updates: after
// each write through the same index, dense results must equal those of a
// fresh index that loads everything from the file.
func TestIndexCacheFollowsOwnWrites(t *testing.T) {
	t.Parallel()
	b := setupIndex(t, 32)
	var all []retrieval.IndexedChunk
	for i := range 40 {
		all = append(all, b.chunk(t, "t", fmt.Sprintf("doc%d", i%4), i, fmt.Sprintf("chunk number %d of doc %d", i, i%4)))
	}
	query := all[7].Vector
	compare := func() {
		t.Helper()
		fresh, err := NewIndex(b.ctx, b.db, 32)
		require.NoError(t, err)
		defer fresh.Close()
		q := retrieval.Query{Tenant: "t", Vector: query, TopK: 100}
		want, err := retrieval.Search(b.ctx, fresh, q)
		require.NoError(t, err)
		got, err := retrieval.Search(b.ctx, b.ix, q)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	require.NoError(t, b.ix.Upsert(b.ctx, all[:20]))
	compare() // loads the cache
	require.NoError(t, b.ix.Upsert(b.ctx, all[20:]))
	compare()
	all[3].Vector = all[7].Vector // an update in place
	require.NoError(t, b.ix.Upsert(b.ctx, all[3:4]))
	compare()
	require.NoError(t, b.ix.DeleteDocument(b.ctx, "t", "doc1"))
	compare()
	require.NoError(t, b.ix.DeleteDocument(b.ctx, "t", "doc3"))
	compare()
}

// TestIndexCacheFollowsVersionSwitch checks the cache updates of staged
// writes and PublishVersion, through the writing handle and through another
// handle on the same file (the api process while a worker switches).
func TestIndexCacheFollowsVersionSwitch(t *testing.T) {
	t.Parallel()
	b := setupIndex(t, 32)
	db2, err := Open(b.ctx, b.path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db2.Close() })
	reader, err := NewIndex(b.ctx, db2, 32)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reader.Close() })

	version := func(v, n int, staged bool) []retrieval.IndexedChunk {
		var out []retrieval.IndexedChunk
		for i := range n {
			c := b.chunk(t, "t", fmt.Sprintf("doc%d", i%3), i, fmt.Sprintf("version %d chunk %d of doc %d", v, i, i%3))
			c.ID = fmt.Sprintf("v%d-%d", v, i)
			c.Version, c.Staged = v, staged
			out = append(out, c)
		}
		return out
	}
	query := retrieval.Query{Tenant: "t", Vector: b.chunk(t, "t", "q", 0, "chunk 4 of doc 1").Vector, TopK: 100}
	compare := func() {
		t.Helper()
		fresh, err := NewIndex(b.ctx, b.db, 32)
		require.NoError(t, err)
		defer fresh.Close()
		want, err := retrieval.Search(b.ctx, fresh, query)
		require.NoError(t, err)
		for _, ix := range []*Index{b.ix, reader} {
			got, err := retrieval.Search(b.ctx, ix, query)
			require.NoError(t, err)
			require.Equal(t, want, got)
		}
	}
	require.NoError(t, b.ix.Upsert(b.ctx, version(1, 12, false)))
	compare() // loads both caches

	gen, err := b.ix.generation(b.ctx, "t")
	require.NoError(t, err)
	require.NoError(t, b.ix.Upsert(b.ctx, version(2, 9, true)))
	after, err := b.ix.generation(b.ctx, "t")
	require.NoError(t, err)
	require.Equal(t, gen, after, "staged writes must not make other processes reload the tenant")
	compare()

	for _, doc := range []string{"doc0", "doc1", "doc2"} {
		require.NoError(t, b.ix.PublishVersion(b.ctx, "t", doc, 2))
		compare()
	}
	got, err := retrieval.Search(b.ctx, b.ix, query)
	require.NoError(t, err)
	require.Len(t, got, 9)
	for _, p := range got {
		require.Contains(t, p.ChunkID, "v2-")
	}
	// And through the other handle, the other way round.
	require.NoError(t, reader.Upsert(b.ctx, version(3, 9, true)))
	require.NoError(t, reader.PublishVersion(b.ctx, "t", "doc1", 3))
	compare()
}

func TestIndexConcurrentSearchAndWrite(t *testing.T) {
	t.Parallel()
	b := setupIndex(t, 32)
	other, err := Open(b.ctx, b.path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = other.Close() })
	otherIx, err := NewIndex(b.ctx, other, 32)
	require.NoError(t, err)
	t.Cleanup(func() { _ = otherIx.Close() })
	q := b.chunk(t, "t", "q", 0, "query text about queues")

	var wg sync.WaitGroup
	for w, ix := range []*Index{b.ix, otherIx} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				c := b.chunk(t, "t", fmt.Sprintf("w%d-doc%d", w, i%5), i, fmt.Sprintf("writer %d chunk %d about queues", w, i))
				if err := ix.Upsert(b.ctx, []retrieval.IndexedChunk{c}); err != nil {
					t.Error(err)
					return
				}
				if i%7 == 6 {
					if err := ix.DeleteDocument(b.ctx, "t", fmt.Sprintf("w%d-doc%d", w, i%5)); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 40 {
				if _, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: "t", Text: q.Text, Vector: q.Vector, TopK: 10}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Both handles agree at rest.
	want, err := NewIndex(b.ctx, b.db, 32)
	require.NoError(t, err)
	defer want.Close()
	query := retrieval.Query{Tenant: "t", Vector: q.Vector, TopK: 100}
	w, err := retrieval.Search(b.ctx, want, query)
	require.NoError(t, err)
	for _, ix := range []*Index{b.ix, otherIx} {
		got, err := retrieval.Search(b.ctx, ix, query)
		require.NoError(t, err)
		require.Equal(t, w, got)
	}
}
