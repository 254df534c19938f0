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

// Query implements qc.PointsServer for what hybrid search needs: nearest
// dense or sparse queries, alone or as prefetches fused by RRF. Rules: the
// query's filter and every prefetch's filter pin the same tenant; limits
// are set and at most MaxLimit. A prefetch's candidates pass its own filter
// and the query's, as in Qdrant.
func (s pointsService) Query(_ context.Context, req *qc.QueryPoints) (*qc.QueryResponse, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count("Query")
	c, err := s.resolve(req.GetCollectionName())
	if err != nil {
		return nil, err
	}
	tenant := tenantOf(req.GetFilter())
	if tenant == "" {
		return nil, s.violate("Query", "filter without a tenant condition")
	}
	limit := int(req.GetLimit())
	if req.Limit == nil || limit <= 0 || limit > MaxLimit {
		return nil, s.violate("Query", "limit %v, want 1 to %d", req.Limit, MaxLimit)
	}
	if req.Offset != nil && req.GetOffset() != 0 {
		return nil, status.Error(codes.Unimplemented, "qdranttest: Query: offset")
	}

	var hits []scored
	if len(req.GetPrefetch()) == 0 {
		hits, err = s.nearest(c, req.GetQuery(), req.GetUsing(), req.GetFilter(), nil, limit)
		if err != nil {
			return nil, err
		}
	} else {
		rrf := req.GetQuery().GetRrf()
		if rrf == nil && !(req.GetQuery().GetVariant() != nil && req.GetQuery().GetFusion() == qc.Fusion_RRF) {
			return nil, status.Errorf(codes.Unimplemented, "qdranttest: Query with prefetch: only RRF fusion, got %T", req.GetQuery().GetVariant())
		}
		k := 2 // Qdrant's default
		if rrf != nil && rrf.K != nil {
			k = int(rrf.GetK())
		}
		if len(rrf.GetWeights()) > 0 {
			return nil, status.Error(codes.Unimplemented, "qdranttest: weighted RRF")
		}
		var lists [][]scored
		for i, pf := range req.GetPrefetch() {
			if t := tenantOf(pf.GetFilter()); t != tenant {
				return nil, s.violate("Query", "prefetch %d pins tenant %q, the query %q", i, t, tenant)
			}
			if len(pf.GetPrefetch()) > 0 {
				return nil, status.Error(codes.Unimplemented, "qdranttest: nested prefetch")
			}
			pl := int(pf.GetLimit())
			if pf.Limit == nil || pl <= 0 || pl > MaxLimit {
				return nil, s.violate("Query", "prefetch %d: limit %v, want 1 to %d", i, pf.Limit, MaxLimit)
			}
			l, err := s.nearest(c, pf.GetQuery(), pf.GetUsing(), pf.GetFilter(), req.GetFilter(), pl)
			if err != nil {
				return nil, err
			}
			if pf.ScoreThreshold != nil {
				l = slices.DeleteFunc(l, func(h scored) bool { return h.score < float64(pf.GetScoreThreshold()) })
			}
			lists = append(lists, l)
		}
		hits = fuseRRF(k, lists)
		if len(hits) > limit {
			hits = hits[:limit]
		}
	}
	resp := &qc.QueryResponse{Result: make([]*qc.ScoredPoint, 0, len(hits))}
	for _, h := range hits {
		if req.ScoreThreshold != nil && h.score < float64(req.GetScoreThreshold()) {
			continue
		}
		resp.Result = append(resp.Result, &qc.ScoredPoint{
			Id:      qc.NewIDUUID(h.p.id),
			Payload: selectPayload(h.p, req.GetWithPayload()),
			Score:   float32(h.score),
			Vectors: selectVectors(c, h.p, req.GetWithVectors()),
		})
	}
	return resp, nil
}

// nearest ranks the points passing both filters against a nearest query
// on vector using: cosine for the dense vector, dot product (times IDF
// when the vector has the modifier) for a sparse one, where only points
// sharing an index with the query score at all.
func (s pointsService) nearest(c *collection, q *qc.Query, using string, f1, f2 *qc.Filter, limit int) ([]scored, error) {
	in := q.GetNearest()
	if in == nil {
		return nil, status.Errorf(codes.Unimplemented, "qdranttest: query %T", q.GetVariant())
	}
	if using == "" {
		using = c.denseName
	}
	var hits []scored
	pass := func(p *point) (bool, error) {
		ok, err := matches(f1, p)
		if err != nil || !ok {
			return false, err
		}
		return matches(f2, p)
	}
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

// fuseRRF scores each point by the sum of 1/(k+rank) over the lists it
// is in, rank counting from 1.
func fuseRRF(k int, lists [][]scored) []scored {
	byID := make(map[string]*scored)
	var out []*scored
	for _, l := range lists {
		for r, h := range l {
			f := byID[h.p.id]
			if f == nil {
				f = &scored{p: h.p}
				byID[h.p.id] = f
				out = append(out, f)
			}
			f.score += 1 / float64(k+r+1)
		}
	}
	hits := make([]scored, len(out))
	for i, f := range out {
		hits[i] = *f
	}
	sortHits(hits)
	return hits
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
