package qdranttest

import (
	"cmp"
	"context"
	"math"
	"slices"

	qc "github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// scored is one hit of a search.
type scored struct {
	p     *point
	score float64
}

// Query implements qc.PointsServer for what hybrid search needs: one
// nearest query, dense or sparse, per request; the adapter fuses the lists
// itself, so prefetches and server-side fusion are not served. Rules: the
// query's filter pins a tenant; the limit is set and at most MaxLimit.
func (s pointsService) Query(_ context.Context, req *qc.QueryPoints) (*qc.QueryResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Query")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	hits, err := s.query("Query", c, req)
	if err != nil {
		return nil, err
	}
	return &qc.QueryResponse{Result: hits}, nil
}

// QueryBatch implements qc.PointsServer: the queries of Query, each by
// Query's rules, answered in order on the request's collection (as Qdrant
// does, whatever collection a query names) in one consistent view. One
// failing query fails the request.
func (s pointsService) QueryBatch(_ context.Context, req *qc.QueryBatchPoints) (*qc.QueryBatchResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("QueryBatch")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	resp := &qc.QueryBatchResponse{Result: make([]*qc.BatchResult, 0, len(req.GetQueryPoints()))}
	for _, q := range req.GetQueryPoints() {
		hits, err := s.query("QueryBatch", c, q)
		if err != nil {
			return nil, err
		}
		resp.Result = append(resp.Result, &qc.BatchResult{Result: hits})
	}
	return resp, nil
}

// query answers one query of Query or QueryBatch (method) on c. Callers
// hold mu for writing.
func (s pointsService) query(method string, c *collection, req *qc.QueryPoints) ([]*qc.ScoredPoint, error) {
	if tenantOf(req.GetFilter()) == "" {
		return nil, s.violate(method, "filter without a tenant condition")
	}
	limit := int(req.GetLimit())
	if req.Limit == nil || limit <= 0 || limit > MaxLimit {
		return nil, s.violate(method, "limit %v, want 1 to %d", req.Limit, MaxLimit)
	}
	if req.Offset != nil && req.GetOffset() != 0 {
		return nil, status.Errorf(codes.Unimplemented, "qdranttest: %s: offset", method)
	}
	if len(req.GetPrefetch()) > 0 {
		return nil, status.Errorf(codes.Unimplemented, "qdranttest: %s: prefetch", method)
	}
	hits, err := s.nearest(c, req.GetQuery(), req.GetUsing(), req.GetFilter(), limit)
	if err != nil {
		return nil, err
	}
	out := make([]*qc.ScoredPoint, 0, len(hits))
	for _, h := range hits {
		if req.ScoreThreshold != nil && h.score < float64(req.GetScoreThreshold()) {
			continue
		}
		out = append(out, &qc.ScoredPoint{
			Id:      qc.NewIDUUID(h.p.id),
			Payload: selectPayload(h.p, req.GetWithPayload()),
			Score:   float32(h.score),
			Vectors: selectVectors(c, h.p, req.GetWithVectors()),
		})
	}
	return out, nil
}

// nearest ranks the points passing filter against a nearest query
// on vector using: cosine for the dense vector, dot product (times IDF
// when the vector has the modifier) for a sparse one, where only points
// sharing an index with the query score at all.
func (s pointsService) nearest(c *collection, q *qc.Query, using string, filter *qc.Filter, limit int) ([]scored, error) {
	in := q.GetNearest()
	if in == nil {
		return nil, status.Errorf(codes.Unimplemented, "qdranttest: query %T", q.GetVariant())
	}
	if using == "" {
		using = c.denseName
	}
	var hits []scored
	pass := func(p *point) (bool, error) { return matches(filter, p) }
	switch {
	case using == c.denseName:
		qv := in.GetDense().GetData()
		if len(qv) != c.dim {
			return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Vector dimension error: expected dim: %d, got %d", c.dim, len(qv))
		}
		qn := normalise(qv)
		for _, p := range c.points {
			ok, err := pass(p)
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "qdranttest: Query: %v", err)
			}
			if ok {
				hits = append(hits, scored{p: p, score: dot(qn, p.dense)})
			}
		}
	default:
		idf, ok := c.sparse[using]
		if !ok {
			return nil, status.Errorf(codes.InvalidArgument, "Wrong input: Not existing vector name error: %s", using)
		}
		sq := in.GetSparse()
		if sq == nil || len(sq.GetIndices()) != len(sq.GetValues()) || len(sq.GetIndices()) == 0 {
			return nil, s.violate("Query", "sparse query on %s malformed or empty", using)
		}
		weights := slices.Clone(sq.GetValues())
		postings := c.postings[using]
		if idf {
			n := c.sparseCount(using)
			for i, ix := range sq.GetIndices() {
				df := len(postings[ix])
				weights[i] *= float32(math.Log((float64(n-df)+0.5)/(float64(df)+0.5) + 1))
			}
		}
		scores := make(map[string]float64)
		for i, ix := range sq.GetIndices() {
			for id := range postings[ix] {
				sv := c.points[id].sparse[using]
				j, _ := slices.BinarySearch(sv.indices, ix)
				scores[id] += float64(weights[i]) * float64(sv.values[j])
			}
		}
		for id, score := range scores {
			p := c.points[id]
			ok, err := pass(p)
			if err != nil {
				return nil, status.Errorf(codes.InvalidArgument, "qdranttest: Query: %v", err)
			}
			if ok {
				hits = append(hits, scored{p: p, score: score})
			}
		}
	}
	sortHits(hits)
	if len(hits) > limit {
		hits = hits[:limit]
	}
	return hits, nil
}

func dot(a, b []float32) float64 {
	var s float32
	for i := range a {
		s += a[i] * b[i]
	}
	return float64(s)
}

// sortHits orders best first, ties by point ID.
func sortHits(hits []scored) {
	slices.SortFunc(hits, func(a, b scored) int {
		if c := cmp.Compare(b.score, a.score); c != 0 {
			return c
		}
		return cmp.Compare(a.p.id, b.p.id)
	})
}
