package qdrant

import (
	"context"
	"fmt"

	qc "github.com/qdrant/go-client/qdrant"

	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

// Search implements retrieval.Index with one Query request: a dense
// prefetch when q has a vector, a sparse prefetch when q's text has terms,
// fused by reciprocal rank on the server (k = retrieval.DefaultRRFK; the
// embedded index fuses normalised scores instead, retrieval.FuseConvex, so
// the two rank close but not identically). A query with only one of the
// two is fused all the same, so that scores mean the same on every path. The tenant and staged=false filter
// is on the query and on each prefetch.
func (ix *Index) Search(ctx context.Context, q retrieval.Query) ([]retrieval.Passage, error) {
	if err := storage.CheckQuery(q, ix.dim); err != nil {
		return nil, err
	}
	topK, n := retrieval.SearchSizes(q.TopK)
	candidates := uint64(n)

	filter := searchFilter(q)
	var prefetch []*qc.PrefetchQuery
	if len(q.Vector) > 0 {
		prefetch = append(prefetch, &qc.PrefetchQuery{
			Query:  qc.NewQueryDense(q.Vector),
			Using:  ptr(denseVector),
			Filter: filter,
			Limit:  ptr(candidates),
		})
	}
	if sv := ix.enc.EncodeQuery(q.Text); sv.Len() > 0 {
		prefetch = append(prefetch, &qc.PrefetchQuery{
			Query:  qc.NewQuerySparse(sv.Indices, sv.Values),
			Using:  ptr(sparseVector),
			Filter: filter,
			Limit:  ptr(candidates),
		})
	}
	if len(prefetch) == 0 {
		return nil, nil // nothing to match on: no vector, no terms
	}
	points, err := ix.client.Query(ctx, &qc.QueryPoints{
		CollectionName: ix.collection,
		Prefetch:       prefetch,
		Query:          qc.NewQueryRRF(&qc.Rrf{K: ptr(uint32(retrieval.DefaultRRFK))}),
		Filter:         filter,
		Limit:          ptr(uint64(topK)),
		WithPayload:    qc.NewWithPayloadInclude(passageKeys...),
		WithVectors:    qc.NewWithVectors(false),
	})
	if err != nil {
		return nil, fmt.Errorf("qdrant: search: %w", mapErr(err))
	}
	out := make([]retrieval.Passage, len(points))
	for i, p := range points {
		out[i] = passage(p)
	}
	return out, nil
}

// searchFilter is the filter every search carries: the tenant, searchable
// points only, and the document restriction when q has one.
func searchFilter(q retrieval.Query) *qc.Filter {
	must := []*qc.Condition{
		qc.NewMatchKeyword(keyTenant, q.Tenant),
		qc.NewMatchBool(keyStaged, false),
	}
	if len(q.DocumentIDs) > 0 {
		must = append(must, qc.NewMatchKeywords(keyDocumentID, q.DocumentIDs...))
	}
	return &qc.Filter{Must: must}
}
