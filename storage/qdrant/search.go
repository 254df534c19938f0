package qdrant

import (
	"context"
	"fmt"

	qc "github.com/qdrant/go-client/qdrant"
	"golang.org/x/sync/errgroup"

	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

// Search implements retrieval.Index with one Query request per retriever,
// run concurrently: the dense vector's nearest points when q has a vector,
// the sparse (BM25) vector's best points when q's text has terms, up to
// retrieval.SearchSizes' candidates each. Qdrant fuses nothing: fuse ranks
// the two lists, as it ranks the embedded index's, and the passages of the
// chunks it chooses come from the payloads the same responses carried.
// Every request carries the tenant and staged=false filter.
func (ix *Index) Search(ctx context.Context, q retrieval.Query, fuse retrieval.Fusion) ([]retrieval.Passage, error) {
	if err := storage.CheckQuery(q, ix.dim); err != nil {
		return nil, err
	}
	k, n := retrieval.SearchSizes(q.TopK)
	var lexical, dense []*qc.ScoredPoint
	g, gctx := errgroup.WithContext(ctx)
	if len(q.Vector) > 0 {
		g.Go(func() (err error) {
			dense, err = ix.query(gctx, qc.NewQueryDense(q.Vector), denseVector, q, n)
			return err
		})
	}
	if sv := ix.enc.EncodeQuery(q.Text); sv.Len() > 0 {
		g.Go(func() (err error) {
			lexical, err = ix.query(gctx, qc.NewQuerySparse(sv.Indices, sv.Values), sparseVector, q, n)
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("qdrant: search: %w", err)
	}
	points := make(map[string]*qc.ScoredPoint, len(lexical)+len(dense))
	chosen := fuse(retrieval.Candidates{Lexical: candidates(lexical, points), Dense: candidates(dense, points)}, k)
	out := make([]retrieval.Passage, 0, len(chosen))
	for _, c := range chosen {
		if p, ok := points[c.ChunkID]; ok {
			ps := passage(p)
			ps.Score = c.Score
			out = append(out, ps)
		}
	}
	return out, nil
}

// query runs one nearest query on the vector named using, filtered by
// searchFilter(q), and returns up to limit points with the payload a
// passage needs, best first.
func (ix *Index) query(ctx context.Context, nearest *qc.Query, using string, q retrieval.Query, limit int) ([]*qc.ScoredPoint, error) {
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
	return points, nil
}

// candidates turns one retriever's points into its candidates, in order,
// and records each point under its chunk ID in byChunk.
func candidates(points []*qc.ScoredPoint, byChunk map[string]*qc.ScoredPoint) []retrieval.Candidate {
	if len(points) == 0 {
		return nil
	}
	out := make([]retrieval.Candidate, len(points))
	for i, p := range points {
		pl := p.GetPayload()
		out[i] = retrieval.Candidate{
			ChunkID:    pl[keyChunkID].GetStringValue(),
			DocumentID: pl[keyDocumentID].GetStringValue(),
			Score:      float64(p.GetScore()),
		}
		byChunk[out[i].ChunkID] = p
	}
	return out
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
