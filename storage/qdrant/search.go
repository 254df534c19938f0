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
// retrieval.SearchSizes' candidates each, carrying only the payload a
// candidate needs (candidateKeys). Qdrant fuses nothing: fuse ranks the two
// lists, as it ranks the embedded index's, and one Get by point ID then
// reads the passages of the chunks it chooses (see winners). Every query
// carries the tenant and staged=false filter.
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
	chosen := fuse(retrieval.Candidates{Lexical: candidates(lexical), Dense: candidates(dense)}, k)
	return ix.winners(ctx, q.Tenant, chosen)
}

// query runs one nearest query on the vector named using, filtered by
// searchFilter(q), and returns up to limit points with candidateKeys'
// payload, best first.
func (ix *Index) query(ctx context.Context, nearest *qc.Query, using string, q retrieval.Query, limit int) ([]*qc.ScoredPoint, error) {
	points, err := ix.client.Query(ctx, &qc.QueryPoints{
		CollectionName: ix.collection,
		Query:          nearest,
		Using:          ptr(using),
		Filter:         searchFilter(q),
		Limit:          ptr(uint64(limit)),
		WithPayload:    qc.NewWithPayloadInclude(candidateKeys...),
		WithVectors:    qc.NewWithVectors(false),
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return points, nil
}

// winners reads the passages of the chunks fusion chose, in its order and
// with its chunk and document IDs and scores, in one Get by point ID (k is at most retrieval.MaxTopK,
// far below a request's bound). A point must still be the tenant's and
// searchable; one deleted or staged since the candidate queries is left
// out, as the embedded index leaves out a chunk gone at read time.
func (ix *Index) winners(ctx context.Context, tenant string, chosen []retrieval.Candidate) ([]retrieval.Passage, error) {
	if len(chosen) == 0 {
		return nil, nil
	}
	ids := make([]*qc.PointId, len(chosen))
	for i, c := range chosen {
		ids[i] = qc.NewIDUUID(pointID(tenant, c.ChunkID))
	}
	got, err := ix.client.Get(ctx, &qc.GetPoints{
		CollectionName: ix.collection,
		Ids:            ids,
		WithPayload:    qc.NewWithPayloadInclude(winnerKeys...),
		WithVectors:    qc.NewWithVectors(false),
	})
	if err != nil {
		return nil, fmt.Errorf("qdrant: search: read %d passages: %w", len(ids), mapErr(err))
	}
	byID := make(map[string]map[string]*qc.Value, len(got))
	for _, p := range got {
		pl := p.GetPayload()
		if pl[keyTenant].GetStringValue() == tenant && !pl[keyStaged].GetBoolValue() {
			byID[p.GetId().GetUuid()] = pl
		}
	}
	out := make([]retrieval.Passage, 0, len(chosen))
	for i, c := range chosen {
		if pl, ok := byID[ids[i].GetUuid()]; ok {
			ps := passage(pl)
			ps.ChunkID, ps.DocumentID, ps.Score = c.ChunkID, c.DocumentID, c.Score
			out = append(out, ps)
		}
	}
	return out, nil
}

// candidates turns one retriever's points into its candidates, in order.
func candidates(points []*qc.ScoredPoint) []retrieval.Candidate {
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
