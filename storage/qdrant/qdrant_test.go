package qdrant_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/retrieval/indextest"
	"github.com/ragqueue/ragqueue/storage/qdrant"
	"github.com/ragqueue/ragqueue/storage/qdrant/qdranttest"
	"github.com/ragqueue/ragqueue/storage/sqlite"
)

// realAddrEnv names a real Qdrant's gRPC address ("127.0.0.1:6334") to
// run the contract suites against besides the fake.
const realAddrEnv = "RAGQ_TEST_QDRANT_ADDR"

// realKeyEnv names the API key of that Qdrant, if it needs one.
const realKeyEnv = "RAGQ_TEST_QDRANT_API_KEY"

var contractSpace = retrieval.Space{Name: "hash-384", Embedder: "hash:384", Dim: indextest.Dim}

// prefixes hands out collection prefixes no other test of this process
// uses; the random part keeps runs against one real Qdrant apart.
var (
	prefixRun = rand.Uint32()
	prefixSeq atomic.Int64
)

func newPrefix() string {
	return fmt.Sprintf("rqt%08x_%d", prefixRun, prefixSeq.Add(1))
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// openSpaces opens Spaces on addr under a fresh prefix and drops every
// space of that prefix when the test ends.
func openSpaces(t *testing.T, addr string) *qdrant.Spaces {
	t.Helper()
	cfg := qdrant.Config{Addr: addr, CollectionPrefix: newPrefix()}
	if addr == os.Getenv(realAddrEnv) {
		cfg.APIKey = os.Getenv(realKeyEnv)
	}
	sp, err := qdrant.Open(ctxFor(t), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if spaces, err := sp.List(ctx); err == nil {
			sp.ClearLive(ctx) //nolint:errcheck // best effort
			for _, s := range spaces {
				_ = sp.Drop(ctx, s.Name)
			}
		}
		_ = sp.Close()
	})
	return sp
}

func runContracts(t *testing.T, addr string) {
	t.Run("Index", func(t *testing.T) {
		sp := openSpaces(t, addr)
		ix, err := sp.Open(ctxFor(t), contractSpace)
		require.NoError(t, err)
		indextest.Run(t, func(*testing.T) retrieval.Index { return ix })
	})
	t.Run("Spaces", func(t *testing.T) {
		indextest.RunSpaces(t, func(t *testing.T) retrieval.Spaces { return openSpaces(t, addr) })
	})
	t.Run("RanksLikeEmbedded", func(t *testing.T) {
		ix, err := openSpaces(t, addr).Open(ctxFor(t), contractSpace)
		require.NoError(t, err)
		indextest.RunAlike(t, embeddedIndex(t), ix)
	})
}

// embeddedIndex is an empty embedded index (storage/sqlite) of the contract
// space's dimension, the reference Qdrant's rankings are compared with.
func embeddedIndex(t *testing.T) retrieval.Index {
	t.Helper()
	ctx := ctxFor(t)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "index.sqlite"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	ix, err := sqlite.NewIndex(ctx, db, indextest.Dim)
	require.NoError(t, err)
	return ix
}

func TestContractsFake(t *testing.T) {
	t.Parallel()
	runContracts(t, qdranttest.Start(t))
}

func TestContractsRealQdrant(t *testing.T) {
	t.Parallel()
	addr := os.Getenv(realAddrEnv)
	if addr == "" {
		t.Skipf("set %s to a Qdrant gRPC address to run the contract suites against it", realAddrEnv)
	}
	runContracts(t, addr)
}

// testBundle is a fake, Spaces on it and the contract space's index.
type testBundle struct {
	srv *qdranttest.Server
	sp  *qdrant.Spaces
	ix  *qdrant.Index
	ctx context.Context
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	srv := qdranttest.New(t)
	sp := openSpaces(t, srv.Addr())
	ctx := ctxFor(t)
	ix, err := sp.OpenIndex(ctx, contractSpace)
	require.NoError(t, err)
	return &testBundle{srv: srv, sp: sp, ix: ix, ctx: ctx}
}

func chunks(t *testing.T, n int, tenant string) []retrieval.IndexedChunk {
	t.Helper()
	emb := retrieval.NewHashEmbedder(indextest.Dim)
	out := make([]retrieval.IndexedChunk, n)
	for i := range out {
		text := fmt.Sprintf("Chunk %d of a long manual about pumps and valves.", i)
		v, err := emb.Embed(context.Background(), []string{text})
		require.NoError(t, err)
		out[i] = retrieval.IndexedChunk{ID: fmt.Sprintf("c%d", i), Tenant: tenant, DocumentID: "manual", Index: i, Text: text, Vector: v[0]}
	}
	return out
}

func TestUpsertBatches(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.ix.Upsert(b.ctx, chunks(t, 300, "acme")))
	require.Equal(t, 3, b.srv.Calls("Upsert"), "300 chunks in batches of 128")
	require.Equal(t, 300, b.srv.PointCount(b.ix.Collection()))
	// Unstaged chunks need no read before the write.
	require.Zero(t, b.srv.Calls("GetPoints"))
}

func TestUpsertRefusesBadChunks(t *testing.T) {
	t.Parallel()
	b := setup(t)
	good := chunks(t, 1, "acme")[0]
	for name, mutate := range map[string]func(c *retrieval.IndexedChunk){
		"no ID":     func(c *retrieval.IndexedChunk) { c.ID = "" },
		"no tenant": func(c *retrieval.IndexedChunk) { c.Tenant = "" },
		"wrong dim": func(c *retrieval.IndexedChunk) { c.Vector = c.Vector[:10] },
	} {
		c := good
		mutate(&c)
		err := b.ix.Upsert(b.ctx, []retrieval.IndexedChunk{c})
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), name)
	}
	require.Zero(t, b.srv.Calls("Upsert"))
}

func TestSameChunkIDTwoTenants(t *testing.T) {
	t.Parallel()
	b := setup(t)
	a := chunks(t, 1, "tenant-a")[0]
	other := a
	other.Tenant = "tenant-b"
	other.Text = "Tenant B's own words about glaciers."
	require.NoError(t, b.ix.Upsert(b.ctx, []retrieval.IndexedChunk{a, other}))
	require.Equal(t, 2, b.srv.PointCount(b.ix.Collection()), "one chunk ID, two tenants, two points")
	ps, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: "tenant-a", Text: "pumps valves", TopK: 5})
	require.NoError(t, err)
	require.Len(t, ps, 1)
	require.Equal(t, a.Text, ps[0].Text)
}

func TestSearchWithoutTenantNeverReachesQdrant(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Text: "pumps", TopK: 5})
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.Zero(t, b.srv.Calls("Query"))
	require.Zero(t, b.srv.Calls("QueryBatch"))
	for _, err := range []error{
		b.ix.DeleteDocument(b.ctx, "", "doc"),
		b.ix.PublishVersion(b.ctx, "", "doc", 1),
	} {
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	}
	_, err = b.ix.VectorsByHash(b.ctx, "", "doc", []string{"h"})
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
}

func TestSearchWrongDim(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: "acme", Vector: make([]float32, 7), TopK: 5})
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
}

func TestSearchTopKBounds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.ix.Upsert(b.ctx, chunks(t, 150, "acme")))
	q := retrieval.Query{Tenant: "acme", Text: "pumps valves manual", TopK: 1000}
	ps, err := retrieval.Search(b.ctx, b.ix, q)
	require.NoError(t, err)
	require.Len(t, ps, 100, "TopK is capped at 100")
}

func TestUnavailable(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.srv.Stop()
	err := b.ix.Ping(b.ctx)
	require.Equal(t, ragqueue.EUNAVAILABLE, ragqueue.ErrorCode(err))
	_, err = retrieval.Search(b.ctx, b.ix, retrieval.Query{Tenant: "acme", Text: "pumps", TopK: 5})
	require.Equal(t, ragqueue.EUNAVAILABLE, ragqueue.ErrorCode(err))
}

func TestDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ctx, cancel := context.WithDeadline(b.ctx, time.Now().Add(-time.Second))
	defer cancel()
	_, err := retrieval.Search(ctx, b.ix, retrieval.Query{Tenant: "acme", Text: "pumps", TopK: 5})
	require.Equal(t, ragqueue.ETIMEOUT, ragqueue.ErrorCode(err))
}

func TestOpenUnreachable(t *testing.T) {
	t.Parallel()
	srv := qdranttest.New(t)
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := qdrant.Open(ctx, qdrant.Config{Addr: srv.Addr()}, nil)
	require.Contains(t, []string{ragqueue.EUNAVAILABLE, ragqueue.ETIMEOUT}, ragqueue.ErrorCode(err))
}

func TestSpaceNames(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, name := range []string{"live", "", "Upper", "a/b", "a b", "x.y"} {
		_, err := b.sp.Open(b.ctx, retrieval.Space{Name: name, Dim: 8})
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), "name %q", name)
	}
	_, err := b.sp.Open(b.ctx, retrieval.Space{Name: "ok", Dim: 0})
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
}

func TestSpacesSharePrefixlessQdrant(t *testing.T) {
	t.Parallel()
	srv := qdranttest.New(t)
	one := openSpaces(t, srv.Addr())
	two := openSpaces(t, srv.Addr())
	ctx := ctxFor(t)
	_, err := one.Open(ctx, contractSpace)
	require.NoError(t, err)
	require.NoError(t, one.SetLive(ctx, contractSpace))
	spaces, err := two.List(ctx)
	require.NoError(t, err)
	require.Empty(t, spaces, "another prefix's spaces are not listed")
	_, ok, err := two.Live(ctx)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestPointIDsStable(t *testing.T) {
	t.Parallel()
	// Point IDs are derived, not stored: a change orphans every point.
	require.Equal(t, "66a7adcd-82c5-545d-8b9e-d23eb399954f", qdrant.PointID("acme", "chunk-1"))
}
