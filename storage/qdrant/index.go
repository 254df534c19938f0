package qdrant

import (
	"context"
	"fmt"
	"log/slog"

	qc "github.com/qdrant/go-client/qdrant"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

// Write and read batch sizes.
const (
	// upsertBatch is the number of points per Upsert request: big enough to
	// amortise a round trip, small enough to stay far below Qdrant's
	// request size limit with 1536-dimensional vectors and long texts.
	upsertBatch = 128
	// scrollPage is the number of points per Scroll or Get request.
	scrollPage = 256
	// hashesPerScroll bounds the content hashes of one VectorsByHash filter.
	hashesPerScroll = 256
)

// Index is one space's collection seen as a retrieval.Index. Each chunk is
// a point whose payload carries its tenant, document, version and a staged
// flag; searches always filter on the tenant and on staged=false. It is
// safe for concurrent use.
//
// Qdrant has no multi-request transactions, so two guarantees of the
// contract hold per request rather than absolutely: PublishVersion runs
// its unstage and delete as one UpdateBatch request, applied in order, so
// a search landing between the two may see both versions for that instant
// (a search's dense and sparse queries, sent in one QueryBatch, may also
// land on either side of a publish, with the same outcome); a search whose
// candidate queries run before a publish and whose read of the winners
// runs after it finds the old version's winners gone, and reads the
// candidates again (up to three times), so it answers with the new
// version rather than with neither; and an Upsert of
// staged chunks reads which of them are already searchable before writing,
// so a PublishVersion racing that read can leave a just-published chunk
// staged until the next publish.
type Index struct {
	client     *qc.Client
	collection string
	dim        int
	logger     *slog.Logger
	enc        retrieval.SparseEncoder
}

var _ retrieval.Index = (*Index)(nil)

// Collection is the Qdrant collection the index reads and writes.
func (ix *Index) Collection() string { return ix.collection }

// Dim is the vector dimension the index accepts.
func (ix *Index) Dim() int { return ix.dim }

// Ping checks that Qdrant answers its health check.
func (ix *Index) Ping(ctx context.Context) error {
	if _, err := ix.client.HealthCheck(ctx); err != nil {
		return fmt.Errorf("qdrant: ping: %w", mapErr(err))
	}
	return nil
}

// Upsert implements retrieval.Index: points in batches of upsertBatch,
// each request waiting until Qdrant has applied it. A staged chunk whose
// point is already searchable is written searchable.
func (ix *Index) Upsert(ctx context.Context, chunks []retrieval.IndexedChunk) error {
	if len(chunks) == 0 {
		return nil
	}
	if err := storage.CheckIndexedChunks(chunks, ix.dim); err != nil {
		return err
	}
	searchable, err := ix.searchableAmongStaged(ctx, chunks)
	if err != nil {
		return err
	}
	for start := 0; start < len(chunks); start += upsertBatch {
		batch := chunks[start:min(start+upsertBatch, len(chunks))]
		points := make([]*qc.PointStruct, len(batch))
		for i := range batch {
			c := &batch[i]
			staged := c.Staged && !searchable[pointID(c.Tenant, c.ID)]
			points[i] = point(c, staged, ix.enc)
		}
		if _, err := ix.client.Upsert(ctx, &qc.UpsertPoints{
			CollectionName: ix.collection,
			Wait:           ptr(true),
			Points:         points,
		}); err != nil {
			return fmt.Errorf("qdrant: upsert %d chunks: %w", len(batch), mapErr(err))
		}
	}
	return nil
}

// searchableAmongStaged returns the point IDs of the staged chunks whose
// stored point is searchable.
func (ix *Index) searchableAmongStaged(ctx context.Context, chunks []retrieval.IndexedChunk) (map[string]bool, error) {
	var ids []*qc.PointId
	for _, c := range chunks {
		if c.Staged {
			ids = append(ids, qc.NewIDUUID(pointID(c.Tenant, c.ID)))
		}
	}
	out := make(map[string]bool)
	for start := 0; start < len(ids); start += scrollPage {
		got, err := ix.client.Get(ctx, &qc.GetPoints{
			CollectionName: ix.collection,
			Ids:            ids[start:min(start+scrollPage, len(ids))],
			WithPayload:    qc.NewWithPayloadInclude(keyStaged),
			WithVectors:    qc.NewWithVectors(false),
		})
		if err != nil {
			return nil, fmt.Errorf("qdrant: upsert: read stored chunks: %w", mapErr(err))
		}
		for _, p := range got {
			if !p.GetPayload()[keyStaged].GetBoolValue() {
				out[p.GetId().GetUuid()] = true
			}
		}
	}
	return out, nil
}

// DeleteDocument implements retrieval.Index with one delete by filter.
func (ix *Index) DeleteDocument(ctx context.Context, tenant, documentID string) error {
	if tenant == "" {
		return ragqueue.Errorf(ragqueue.EINVALID, "qdrant: delete document: no tenant")
	}
	if _, err := ix.client.Delete(ctx, &qc.DeletePoints{
		CollectionName: ix.collection,
		Wait:           ptr(true),
		Points:         qc.NewPointsSelectorFilter(docFilter(tenant, documentID)),
	}); err != nil {
		return fmt.Errorf("qdrant: delete document %s: %w", documentID, mapErr(err))
	}
	return nil
}

// PublishVersion implements retrieval.Index. Unless a newer version is
// already searchable, one UpdateBatch request sets staged=false on the
// version's points and then deletes every point of an older version.
func (ix *Index) PublishVersion(ctx context.Context, tenant, documentID string, version int) error {
	if tenant == "" {
		return ragqueue.Errorf(ragqueue.EINVALID, "qdrant: publish version: no tenant")
	}
	newer, err := ix.client.Scroll(ctx, &qc.ScrollPoints{
		CollectionName: ix.collection,
		Filter: docFilter(tenant, documentID,
			qc.NewMatchBool(keyStaged, false),
			qc.NewRange(keyVersion, &qc.Range{Gt: ptr(float64(version))})),
		Limit:       ptr(uint32(1)),
		WithPayload: qc.NewWithPayload(false),
		WithVectors: qc.NewWithVectors(false),
	})
	if err != nil {
		return fmt.Errorf("qdrant: publish %s v%d: %w", documentID, version, mapErr(err))
	}
	if len(newer) > 0 {
		return nil // a newer version answers already; never go back
	}
	if _, err := ix.client.UpdateBatch(ctx, &qc.UpdateBatchPoints{
		CollectionName: ix.collection,
		Wait:           ptr(true),
		Operations: []*qc.PointsUpdateOperation{
			qc.NewPointsUpdateSetPayload(&qc.PointsUpdateOperation_SetPayload{
				Payload: map[string]*qc.Value{keyStaged: qc.NewValueBool(false)},
				PointsSelector: qc.NewPointsSelectorFilter(docFilter(tenant, documentID,
					qc.NewMatchInt(keyVersion, int64(version)),
					qc.NewMatchBool(keyStaged, true))),
			}),
			qc.NewPointsUpdateDeletePoints(&qc.PointsUpdateOperation_DeletePoints{
				Points: qc.NewPointsSelectorFilter(docFilter(tenant, documentID,
					qc.NewRange(keyVersion, &qc.Range{Lt: ptr(float64(version))}))),
			}),
		},
	}); err != nil {
		return fmt.Errorf("qdrant: publish %s v%d: %w", documentID, version, mapErr(err))
	}
	return nil
}

// VectorsByHash implements retrieval.Index by scrolling the document's
// points whose content hash is among hashes, with their dense vectors.
func (ix *Index) VectorsByHash(ctx context.Context, tenant, documentID string, hashes []string) (map[string][]float32, error) {
	if tenant == "" {
		return nil, ragqueue.Errorf(ragqueue.EINVALID, "qdrant: vectors by hash: no tenant")
	}
	out := make(map[string][]float32)
	want := storage.DistinctHashes(hashes)
	for start := 0; start < len(want); start += hashesPerScroll {
		filter := docFilter(tenant, documentID,
			qc.NewMatchKeywords(keyContentHash, want[start:min(start+hashesPerScroll, len(want))]...))
		var offset *qc.PointId
		for {
			points, next, err := ix.client.ScrollAndOffset(ctx, &qc.ScrollPoints{
				CollectionName: ix.collection,
				Filter:         filter,
				Offset:         offset,
				Limit:          ptr(uint32(scrollPage)),
				WithPayload:    qc.NewWithPayloadInclude(keyContentHash),
				WithVectors:    qc.NewWithVectorsInclude(denseVector),
			})
			if err != nil {
				return nil, fmt.Errorf("qdrant: vectors by hash of %s: %w", documentID, mapErr(err))
			}
			for _, p := range points {
				v := p.GetVectors().GetVectors().GetVectors()[denseVector].GetDenseVector().GetData()
				if h := p.GetPayload()[keyContentHash].GetStringValue(); h != "" && len(v) == ix.dim {
					out[h] = v
				}
			}
			if next == nil {
				break
			}
			offset = next
		}
	}
	return out, nil
}
