package sqlite

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

// TestIndexRefreshIsIncremental: a process whose copy of a tenant went
// stale through another process's writes catches up in place (the same
// set, only the changes read), and reads the tenant whole when the removal
// records it would need were pruned. Either way it answers as a fresh
// index does.
func TestIndexRefreshIsIncremental(t *testing.T) {
	t.Parallel()
	writer := setupIndex(t, 32)
	db2, err := Open(writer.ctx, writer.path)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db2.Close() })
	reader, err := NewIndex(writer.ctx, db2, 32)
	require.NoError(t, err)
	t.Cleanup(func() { _ = reader.Close() })

	chunks := func(doc string, v, n int, staged bool) []retrieval.IndexedChunk {
		var out []retrieval.IndexedChunk
		for i := range n {
			c := writer.chunk(t, "t", doc, i, fmt.Sprintf("version %d part %d of %s about rivers", v, i, doc))
			c.ID = fmt.Sprintf("%s-v%d-%d", doc, v, i)
			c.Version, c.Staged = v, staged
			out = append(out, c)
		}
		return out
	}
	query := retrieval.Query{Tenant: "t", Text: "rivers part 2", Vector: writer.chunk(t, "t", "q", 0, "part 2 of d1 about rivers").Vector, TopK: 100}
	compare := func() {
		t.Helper()
		fresh, err := NewIndex(writer.ctx, writer.db, 32)
		require.NoError(t, err)
		defer fresh.Close()
		want, err := retrieval.Search(writer.ctx, fresh, query)
		require.NoError(t, err)
		got, err := retrieval.Search(writer.ctx, reader, query)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	cached := func() *tenantSet {
		set, _ := reader.cache.current("t")
		return set
	}

	require.NoError(t, writer.ix.Upsert(writer.ctx, append(chunks("d1", 1, 5, false), chunks("d2", 1, 5, false)...)))
	compare()
	set := cached()
	require.NotNil(t, set)

	steps := []func(){
		func() { require.NoError(t, writer.ix.Upsert(writer.ctx, chunks("d3", 1, 4, false))) },
		func() { require.NoError(t, writer.ix.Upsert(writer.ctx, chunks("d1", 1, 2, false))) }, // rewrite in place
		func() { require.NoError(t, writer.ix.DeleteDocument(writer.ctx, "t", "d2")) },
		func() { require.NoError(t, writer.ix.Upsert(writer.ctx, chunks("d1", 2, 3, true))) },
		func() { require.NoError(t, writer.ix.PublishVersion(writer.ctx, "t", "d1", 2)) },
		func() { // removed, then written again, between two searches
			require.NoError(t, writer.ix.DeleteDocument(writer.ctx, "t", "d3"))
			require.NoError(t, writer.ix.Upsert(writer.ctx, chunks("d3", 1, 2, false)))
		},
	}
	for i, step := range steps {
		step()
		compare()
		require.Same(t, set, cached(), "step %d: caught up in place", i)
	}

	// Pretend the records since the reader's copy were pruned.
	_, err = writer.db.SQL().Exec(`UPDATE index_generations SET pruned = gen + 1`)
	require.NoError(t, err)
	require.NoError(t, writer.ix.Upsert(writer.ctx, chunks("d4", 1, 2, false)))
	compare()
	require.NotSame(t, set, cached(), "read whole after pruning")
}

// TestIndexPrunesRemovalRecords: removal records older than removedKeep
// generations go, and pruned says so.
func TestIndexPrunesRemovalRecords(t *testing.T) {
	t.Parallel()
	b := setupIndex(t, 8)
	c := b.chunk(t, "t", "d", 0, "churn")
	count := func() (records, pruned int) {
		t.Helper()
		require.NoError(t, b.db.SQL().QueryRow(`SELECT count(*) FROM index_removed`).Scan(&records))
		require.NoError(t, b.db.SQL().QueryRow(`SELECT pruned FROM index_generations`).Scan(&pruned))
		return records, pruned
	}
	for range 10 {
		require.NoError(t, b.ix.Upsert(b.ctx, []retrieval.IndexedChunk{c}))
		require.NoError(t, b.ix.DeleteDocument(b.ctx, "t", "d"))
	}
	records, pruned := count()
	require.Equal(t, 10, records)
	require.Zero(t, pruned)
	// Jump ahead: the next write is generation removedKeep+pruneEvery.
	_, err := b.db.SQL().Exec(`UPDATE index_generations SET gen = ?`, removedKeep+pruneEvery-1)
	require.NoError(t, err)
	require.NoError(t, b.ix.Upsert(b.ctx, []retrieval.IndexedChunk{c}))
	records, pruned = count()
	require.Zero(t, records)
	require.Equal(t, pruneEvery, pruned)
}
