package qdrant

import (
	"context"
	"fmt"

	qc "github.com/qdrant/go-client/qdrant"
	"golang.org/x/sync/errgroup"

	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

// Candidates implements retrieval.Index with one Query request per
// retriever, run concurrently: the dense vector's nearest points when q has
// a vector, the sparse (BM25) vector's best points when q's text has terms,
// up to retrieval.SearchSizes' candidates each, with the payload a passage
// needs. Qdrant fuses nothing: retrieval ranks the two lists, as it ranks
// the embedded index's. Every request carries the tenant and staged=false
// filter.
func (ix *Index) Candidates(ctx context.Context, q retrieval.Query) (retrieval.Candidates, error) {
	if err := storage.CheckQuery(q, ix.dim); err != nil {
		return retrieval.Candidates{}, err
	}
	_, n := retrieval.SearchSizes(q.TopK)
	var c retrieval.Candidates
	g, gctx := errgroup.WithContext(ctx)
	if len(q.Vector) > 0 {
		g.Go(func() (err error) {
			c.Dense, err = ix.query(gctx, qc.NewQueryDense(q.Vector), denseVector, q, n)
			return err
		})
	}
	if sv := ix.enc.EncodeQuery(q.Text); sv.Len() > 0 {
		g.Go(func() (err error) {
			c.Lexical, err = ix.query(gctx, qc.NewQuerySparse(sv.Indices, sv.Values), sparseVector, q, n)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return retrieval.Candidates{}, fmt.Errorf("qdrant: search: %w", err)
	}
	return c, nil
}

// query runs one nearest query on the vector named using, filtered by
// searchFilter(q), and returns up to limit passages, best first.
func (ix *Index) query(ctx context.Context, nearest *qc.Query, using string, q retrieval.Query, limit int) ([]retrieval.Passage, error) {
	points, err := ix.client.Query(ctx, &qc.QueryPoints{
		CollectionName: ix.collection,
		Query:          nearest,
		Using:          ptr(using),
		Filter:         searchFilter(q),
		Limit:          ptr(uint64(limit)),
		WithPayload:    qc.NewWithPayloadInclude(passageKeys...),
		WithVectors:    qc.NewWithVectors(false),
	})
	if err != nil {
		return nil, mapErr(err)
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
