package qdranttest_test

import (
	"context"
	"fmt"
	"math"
	"net"
	"strconv"
	"testing"
	"time"

	qc "github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/ragqueue/ragqueue/storage/qdrant/qdranttest"
)

// testBundle is a fake with one collection ("c": dense of 3 dimensions,
// sparse with IDF) and a raw client on it.
type testBundle struct {
	srv    *qdranttest.Server
	client *qc.Client
	ctx    context.Context
}

func setup(t *testing.T) *testBundle {
	t.Helper()
	srv := qdranttest.New(t)
	host, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	client, err := qc.NewClient(&qc.Config{Host: host, Port: p, SkipCompatibilityCheck: true, PoolSize: 1})
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	require.NoError(t, client.CreateCollection(ctx, &qc.CreateCollection{
		CollectionName: "c",
		VectorsConfig:  qc.NewVectorsConfigMap(map[string]*qc.VectorParams{"dense": {Size: 3, Distance: qc.Distance_Cosine}}),
		SparseVectorsConfig: qc.NewSparseVectorsConfig(map[string]*qc.SparseVectorParams{
			"sparse": {Modifier: qc.Modifier_Idf.Enum()},
		}),
	}))
	return &testBundle{srv: srv, client: client, ctx: ctx}
}

func id(n int) string { return fmt.Sprintf("00000000-0000-0000-0000-%012d", n) }

func pt(n int, tenant string, dense []float32, idx []uint32, vals []float32) *qc.PointStruct {
	vectors := map[string]*qc.Vector{"dense": qc.NewVectorDense(dense)}
	if len(idx) > 0 {
		vectors["sparse"] = qc.NewVectorSparse(idx, vals)
	}
	return &qc.PointStruct{
		Id:      qc.NewIDUUID(id(n)),
		Vectors: qc.NewVectorsMap(vectors),
		Payload: qc.NewValueMap(map[string]any{"tenant": tenant, "n": n, "staged": n%2 == 0}),
	}
}

func (b *testBundle) upsert(t *testing.T, points ...*qc.PointStruct) {
	t.Helper()
	_, err := b.client.Upsert(b.ctx, &qc.UpsertPoints{CollectionName: "c", Wait: qc.PtrOf(true), Points: points})
	require.NoError(t, err)
}

func tenant(t string) *qc.Filter {
	return &qc.Filter{Must: []*qc.Condition{qc.NewMatchKeyword("tenant", t)}}
}

func ids(points []*qc.ScoredPoint) []string {
	out := make([]string, len(points))
	for i, p := range points {
		out[i] = p.GetId().GetUuid()
	}
	return out
}

func requireRuleBroken(t *testing.T, b *testBundle, err error) {
	t.Helper()
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Len(t, b.srv.TakeViolations(), 1)
}

func TestRulesAreEnforced(t *testing.T) {
	t.Parallel()
	b := setup(t)
	ok := pt(1, "a", []float32{1, 0, 0}, nil, nil)

	_, err := b.client.Upsert(b.ctx, &qc.UpsertPoints{CollectionName: "c", Points: []*qc.PointStruct{ok}})
	requireRuleBroken(t, b, err) // no wait

	many := make([]*qc.PointStruct, qdranttest.MaxUpsertBatch+1)
	for i := range many {
		many[i] = pt(i, "a", []float32{1, 0, 0}, nil, nil)
	}
	_, err = b.client.Upsert(b.ctx, &qc.UpsertPoints{CollectionName: "c", Wait: qc.PtrOf(true), Points: many})
	requireRuleBroken(t, b, err)

	_, err = b.client.Upsert(b.ctx, &qc.UpsertPoints{CollectionName: "c", Wait: qc.PtrOf(true),
		Points: []*qc.PointStruct{pt(1, "", []float32{1, 0, 0}, nil, nil)}})
	requireRuleBroken(t, b, err) // no tenant

	b.upsert(t, ok)
	_, err = b.client.Query(b.ctx, &qc.QueryPoints{CollectionName: "c", Query: qc.NewQueryDense([]float32{1, 0, 0}), Limit: qc.PtrOf(uint64(5))})
	requireRuleBroken(t, b, err) // search without tenant

	_, err = b.client.Delete(b.ctx, &qc.DeletePoints{CollectionName: "c", Wait: qc.PtrOf(true),
		Points: qc.NewPointsSelectorFilter(&qc.Filter{Must: []*qc.Condition{qc.NewMatchInt("n", 1)}})})
	requireRuleBroken(t, b, err) // delete across tenants

	_, err = b.client.Scroll(b.ctx, &qc.ScrollPoints{CollectionName: "c", Limit: qc.PtrOf(uint32(10))})
	requireRuleBroken(t, b, err)

	_, err = b.client.SetPayload(b.ctx, &qc.SetPayloadPoints{CollectionName: "c", Wait: qc.PtrOf(true),
		Payload: qc.NewValueMap(map[string]any{"tenant": "b"}), PointsSelector: qc.NewPointsSelectorFilter(tenant("a"))})
	requireRuleBroken(t, b, err) // moving points between tenants

	_, err = b.client.CreateFieldIndex(b.ctx, &qc.CreateFieldIndexCollection{CollectionName: "c", Wait: qc.PtrOf(true),
		FieldName: "tenant", FieldType: qc.FieldType_FieldTypeKeyword.Enum()})
	requireRuleBroken(t, b, err) // tenant index without is_tenant
}

func TestDenseCosineAndTenantFilter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.upsert(t,
		pt(1, "a", []float32{1, 0, 0}, nil, nil),
		pt(2, "a", []float32{3, 4, 0}, nil, nil), // normalised to 0.6, 0.8
		pt(3, "b", []float32{1, 0, 0}, nil, nil),
	)
	res, err := b.client.Query(b.ctx, &qc.QueryPoints{CollectionName: "c", Query: qc.NewQueryDense([]float32{0, 2, 0}),
		Filter: tenant("a"), Limit: qc.PtrOf(uint64(10))})
	require.NoError(t, err)
	require.Equal(t, []string{id(2), id(1)}, ids(res))
	require.InDelta(t, 0.8, res[0].GetScore(), 1e-6)
	require.InDelta(t, 0.0, res[1].GetScore(), 1e-6)

	// Stored cosine vectors come back normalised, unit vectors unchanged.
	got, err := b.client.Get(b.ctx, &qc.GetPoints{CollectionName: "c", Ids: []*qc.PointId{qc.NewIDUUID(id(2)), qc.NewIDUUID(id(1))},
		WithVectors: qc.NewWithVectors(true)})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.InDeltaSlice(t, []float32{0.6, 0.8, 0}, got[0].GetVectors().GetVectors().GetVectors()["dense"].GetDenseVector().GetData(), 1e-6)
	require.Equal(t, []float32{1, 0, 0}, got[1].GetVectors().GetVectors().GetVectors()["dense"].GetDenseVector().GetData())
}

func TestSparseIDFOnlyOverlapping(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.upsert(t,
		pt(1, "a", []float32{1, 0, 0}, []uint32{10, 20}, []float32{1, 1}),
		pt(2, "a", []float32{1, 0, 0}, []uint32{10}, []float32{1}),
		pt(3, "a", []float32{1, 0, 0}, []uint32{30}, []float32{1}),
		pt(4, "a", []float32{1, 0, 0}, nil, nil),
	)
	res, err := b.client.Query(b.ctx, &qc.QueryPoints{CollectionName: "c", Query: qc.NewQuerySparse([]uint32{10, 20}, []float32{1, 1}),
		Using: qc.PtrOf("sparse"), Filter: tenant("a"), Limit: qc.PtrOf(uint64(10))})
	require.NoError(t, err)
	require.Equal(t, []string{id(1), id(2)}, ids(res), "points without a shared index do not score")
	// N=3 sparse points; term 10 in 2, term 20 in 1.
	idf10 := float32(math.Log(1.6))     // ln((3-2+0.5)/(2+0.5)+1)
	idf20 := float32(math.Log(8.0 / 3)) // ln((3-1+0.5)/(1+0.5)+1)
	require.InDelta(t, idf10+idf20, res[0].GetScore(), 1e-4)
	require.InDelta(t, idf10, res[1].GetScore(), 1e-4)
}

// TestQueryPayloadAndNoFusion checks what the adapter's candidate queries
// rely on: the payload include selector, and that prefetches (server-side
// fusion, which ragqueue no longer asks for) are refused rather than
// half-served.
func TestQueryPayloadAndNoFusion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.upsert(t,
		pt(1, "a", []float32{1, 0, 0}, []uint32{7}, []float32{1}),
		pt(2, "a", []float32{0, 1, 0}, []uint32{7}, []float32{2}),
	)
	res, err := b.client.Query(b.ctx, &qc.QueryPoints{CollectionName: "c", Query: qc.NewQuerySparse([]uint32{7}, []float32{1}),
		Using: qc.PtrOf("sparse"), Filter: tenant("a"), Limit: qc.PtrOf(uint64(10)), WithPayload: qc.NewWithPayloadInclude("n")})
	require.NoError(t, err)
	require.Equal(t, []string{id(2), id(1)}, ids(res))
	require.Equal(t, int64(2), res[0].GetPayload()["n"].GetIntegerValue())
	require.NotContains(t, res[0].GetPayload(), "tenant", "payload include selector honoured")

	_, err = b.client.Query(b.ctx, &qc.QueryPoints{
		CollectionName: "c",
		Prefetch:       []*qc.PrefetchQuery{{Query: qc.NewQueryDense([]float32{1, 0, 0}), Using: qc.PtrOf("dense"), Filter: tenant("a"), Limit: qc.PtrOf(uint64(5))}},
		Query:          qc.NewQueryFusion(qc.Fusion_RRF),
		Filter:         tenant("a"),
		Limit:          qc.PtrOf(uint64(5)),
	})
	require.Equal(t, codes.Unimplemented, status.Code(err), "%v", err)
}

// TestQueryBatch checks the one round trip the adapter sends its
// candidate queries in: each answered as Query answers it, in order, and a
// query breaking a rule fails the whole request.
func TestQueryBatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.upsert(t,
		pt(1, "a", []float32{1, 0, 0}, []uint32{7}, []float32{1}),
		pt(2, "a", []float32{0, 1, 0}, []uint32{7}, []float32{2}),
		pt(3, "b", []float32{0, 1, 0}, []uint32{7}, []float32{3}),
	)
	dense := &qc.QueryPoints{CollectionName: "c", Query: qc.NewQueryDense([]float32{1, 0, 0}),
		Using: qc.PtrOf("dense"), Filter: tenant("a"), Limit: qc.PtrOf(uint64(10)), WithPayload: qc.NewWithPayloadInclude("n")}
	sparse := &qc.QueryPoints{CollectionName: "c", Query: qc.NewQuerySparse([]uint32{7}, []float32{1}),
		Using: qc.PtrOf("sparse"), Filter: tenant("a"), Limit: qc.PtrOf(uint64(10))}
	res, err := b.client.QueryBatch(b.ctx, &qc.QueryBatchPoints{CollectionName: "c", QueryPoints: []*qc.QueryPoints{dense, sparse}})
	require.NoError(t, err)
	require.Len(t, res, 2)
	require.Equal(t, []string{id(1), id(2)}, ids(res[0].GetResult()))
	require.Equal(t, int64(1), res[0].GetResult()[0].GetPayload()["n"].GetIntegerValue())
	require.NotContains(t, res[0].GetResult()[0].GetPayload(), "tenant")
	require.Equal(t, []string{id(2), id(1)}, ids(res[1].GetResult()))
	require.Empty(t, res[1].GetResult()[0].GetPayload(), "no selector, no payload")
	require.Equal(t, 1, b.srv.Calls("QueryBatch"))
	require.Zero(t, b.srv.Calls("Query"))

	noTenant := &qc.QueryPoints{CollectionName: "c", Query: qc.NewQueryDense([]float32{1, 0, 0}), Limit: qc.PtrOf(uint64(5))}
	_, err = b.client.QueryBatch(b.ctx, &qc.QueryBatchPoints{CollectionName: "c", QueryPoints: []*qc.QueryPoints{dense, noTenant}})
	requireRuleBroken(t, b, err)
}

func TestScrollPagesAndFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var points []*qc.PointStruct
	for i := range 25 {
		points = append(points, pt(i, "a", []float32{1, 0, 0}, nil, nil))
	}
	points = append(points, pt(100, "b", []float32{1, 0, 0}, nil, nil))
	b.upsert(t, points...)
	filter := tenant("a")
	filter.Must = append(filter.Must, qc.NewMatchBool("staged", true), qc.NewRange("n", &qc.Range{Gte: qc.PtrOf(4.0), Lt: qc.PtrOf(20.0)}))
	var got []string
	var offset *qc.PointId
	pages := 0
	for {
		res, next, err := b.client.ScrollAndOffset(b.ctx, &qc.ScrollPoints{CollectionName: "c", Filter: filter, Offset: offset, Limit: qc.PtrOf(uint32(3))})
		require.NoError(t, err)
		pages++
		for _, p := range res {
			got = append(got, p.GetId().GetUuid())
		}
		if next == nil {
			break
		}
		offset = next
	}
	require.Equal(t, []string{id(4), id(6), id(8), id(10), id(12), id(14), id(16), id(18)}, got)
	require.Equal(t, 3, pages)
}

func TestAliasesSwitchAtomically(t *testing.T) {
	t.Parallel()
	b := setup(t)
	require.NoError(t, b.client.CreateCollection(b.ctx, &qc.CreateCollection{
		CollectionName: "d",
		VectorsConfig:  qc.NewVectorsConfigMap(map[string]*qc.VectorParams{"dense": {Size: 3, Distance: qc.Distance_Cosine}}),
	}))
	require.NoError(t, b.client.UpdateAliases(b.ctx, []*qc.AliasOperations{qc.NewAliasCreate("live", "c")}))
	// A failing action leaves every alias as it was.
	err := b.client.UpdateAliases(b.ctx, []*qc.AliasOperations{qc.NewAliasDelete("live"), qc.NewAliasCreate("live", "missing")})
	require.Error(t, err)
	aliases, err := b.client.ListAliases(b.ctx)
	require.NoError(t, err)
	require.Len(t, aliases, 1)
	require.Equal(t, "c", aliases[0].GetCollectionName())

	require.NoError(t, b.client.UpdateAliases(b.ctx, []*qc.AliasOperations{qc.NewAliasDelete("live"), qc.NewAliasCreate("live", "d")}))
	aliases, err = b.client.ListAliases(b.ctx)
	require.NoError(t, err)
	require.Equal(t, "d", aliases[0].GetCollectionName())
	// Deleting a collection drops its aliases.
	require.NoError(t, b.client.DeleteCollection(b.ctx, "d"))
	aliases, err = b.client.ListAliases(b.ctx)
	require.NoError(t, err)
	require.Empty(t, aliases)
}
