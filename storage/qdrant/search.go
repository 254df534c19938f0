package qdrant

import (
	"context"
	"fmt"

	qc "github.com/qdrant/go-client/qdrant"

	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

// Search implements retrieval.Index with one QueryBatch request holding a
// query per retriever: the dense vector's nearest points when q has a
// vector, the sparse (BM25) vector's best points when q's text has terms,
// up to retrieval.SearchSizes' candidates each, carrying only the payload
// a candidate needs (candidateKeys). Qdrant fuses nothing: fuse ranks the
// two lists, as it ranks the embedded index's, and one Get by point ID then
// reads the passages of the chunks it chooses (see winners). Every query
// carries the tenant and staged=false filter.
func (ix *Index) Search(ctx context.Context, q retrieval.Query, fuse retrieval.Fusion) ([]retrieval.Passage, error) {
	if err := storage.CheckQuery(q, ix.dim); err != nil {
		return nil, err
	}
	k, n := retrieval.SearchSizes(q.TopK)
	var queries []*qc.QueryPoints
	if len(q.Vector) > 0 {
		queries = append(queries, ix.query(qc.NewQueryDense(q.Vector), denseVector, q, n))
	}
	if sv := ix.enc.EncodeQuery(q.Text); sv.Len() > 0 {
		queries = append(queries, ix.query(qc.NewQuerySparse(sv.Indices, sv.Values), sparseVector, q, n))
	}
	// A winner missing at Get time means a write (a version switch, a
	// delete) landed between the two reads. Asking again sees the index
	// after it, so a document searchable before and after a PublishVersion
	// is never missing from a search; the last attempt answers as it can.
	for attempt := 1; ; attempt++ {
		cands, err := ix.candidates(ctx, queries)
		if err != nil {
			return nil, err
		}
		chosen := fuse(cands, k)
		passages, err := ix.winners(ctx, q.Tenant, chosen)
		if err != nil || len(passages) == len(chosen) || attempt == searchAttempts {
			return passages, err
		}
	}
}

// searchAttempts bounds how often Search re-reads candidates whose winners
// moved meanwhile.
const searchAttempts = 3

// candidates sends queries in one QueryBatch request (none when there are
// none) and returns their hits as each retriever's candidates.
func (ix *Index) candidates(ctx context.Context, queries []*qc.QueryPoints) (retrieval.Candidates, error) {
	var out retrieval.Candidates
	if len(queries) == 0 {
		return out, nil
	}
	res, err := ix.client.QueryBatch(ctx, &qc.QueryBatchPoints{CollectionName: ix.collection, QueryPoints: queries})
	if err != nil {
		return out, fmt.Errorf("qdrant: search: %w", mapErr(err))
	}
	if len(res) != len(queries) {
		return out, fmt.Errorf("qdrant: search: %d results for %d queries", len(res), len(queries))
	}
	for i, r := range res {
		if queries[i].GetUsing() == denseVector {
			out.Dense = candidateList(r.GetResult())
		} else {
			out.Lexical = candidateList(r.GetResult())
		}
	}
	return out, nil
}

// query is one nearest query on the vector named using, filtered by
// searchFilter(q), for up to limit points with candidateKeys' payload.
func (ix *Index) query(nearest *qc.Query, using string, q retrieval.Query, limit int) *qc.QueryPoints {
	return &qc.QueryPoints{
		CollectionName: ix.collection,
		Query:          nearest,
		Using:          ptr(using),
		Filter:         searchFilter(q),
		Limit:          ptr(uint64(limit)),
		WithPayload:    qc.NewWithPayloadInclude(candidateKeys...),
		WithVectors:    qc.NewWithVectors(false),
	}
}

// winners reads the passages of the chunks fusion chose, in its order and
// with its chunk and document IDs and scores, in one Get by point ID (k is at most retrieval.MaxTopK,
// far below a request's bound). A point must still be the tenant's and
// searchable; one deleted or staged since the candidate queries is left
// out, as the embedded index leaves out a chunk gone at read time.
func (ix *Index) winners(ctx context.Context, tenant string, chosen []retrieval.Candidate) ([]retrieval.Passage, error) {
	out := make([]retrieval.Passage, 0, len(chosen))
	if len(chosen) == 0 {
		return out, nil
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
	for i, c := range chosen {
		if pl, ok := byID[ids[i].GetUuid()]; ok {
			ps := passage(pl)
			ps.ChunkID, ps.DocumentID, ps.Score = c.ChunkID, c.DocumentID, c.Score
			out = append(out, ps)
		}
	}
	return out, nil
}

// candidateList turns one retriever's points into its candidates, in order.
func candidateList(points []*qc.ScoredPoint) []retrieval.Candidate {
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
