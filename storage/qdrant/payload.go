package qdrant

import (
	"strconv"

	"github.com/google/uuid"
	qc "github.com/qdrant/go-client/qdrant"

	"github.com/ragqueue/ragqueue/retrieval"
)

// Vector names of every collection.
const (
	denseVector  = "dense"
	sparseVector = "sparse"
)

// Payload keys of a chunk's point. tenant, document_id, source,
// content_hash, version and staged carry payload indexes (see
// payloadIndexes); the rest are only returned.
const (
	keyTenant      = "tenant"
	keyDocumentID  = "document_id"
	keyChunkID     = "chunk_id"
	keyVersion     = "version"
	keyIndex       = "chunk_index"
	keyText        = "text"
	keyPage        = "page"
	keyTitle       = "title"
	keySource      = "source"
	keyContentHash = "content_hash"
	keyStaged      = "staged"
)

// Payload keys a search reads: candidateKeys of every candidate, what
// fusion ranks on; winnerKeys of the chunks fusion chose only, the rest of
// a passage and what checks the point still answers the query.
var (
	candidateKeys = []string{keyDocumentID, keyChunkID}
	winnerKeys    = []string{keyTenant, keyStaged, keyText, keyPage, keyTitle, keySource}
)

// pointNamespace is the fixed UUIDv5 namespace of point IDs. Changing it
// changes every point ID and orphans every stored point.
var pointNamespace = uuid.MustParse("6f1d3c52-7a4e-5b8f-9c21-3e0d4a8b7f15")

// pointID is the Qdrant point ID of a chunk: a UUIDv5 of the tenant and
// the chunk ID, length-prefixed so that no two pairs collide. Chunk IDs are
// only unique per tenant as far as the index knows, so the tenant is part
// of the key: one tenant can never overwrite another's point.
func pointID(tenant, chunkID string) string {
	name := make([]byte, 0, len(tenant)+len(chunkID)+24)
	for _, f := range [...]string{tenant, chunkID} {
		name = strconv.AppendInt(name, int64(len(f)), 10)
		name = append(name, ':')
		name = append(name, f...)
	}
	return uuid.NewSHA1(pointNamespace, name).String()
}

// point turns a chunk into the point stored for it; staged says whether it
// is written hidden from searches.
func point(c *retrieval.IndexedChunk, staged bool, enc retrieval.SparseEncoder) *qc.PointStruct {
	vectors := map[string]*qc.Vector{denseVector: qc.NewVectorDense(c.Vector)}
	if sv := enc.EncodeDocument(c.Text); sv.Len() > 0 {
		vectors[sparseVector] = qc.NewVectorSparse(sv.Indices, sv.Values)
	}
	return &qc.PointStruct{
		Id:      qc.NewIDUUID(pointID(c.Tenant, c.ID)),
		Vectors: qc.NewVectorsMap(vectors),
		Payload: map[string]*qc.Value{
			keyTenant:      qc.NewValueString(c.Tenant),
			keyDocumentID:  qc.NewValueString(c.DocumentID),
			keyChunkID:     qc.NewValueString(c.ID),
			keyVersion:     qc.NewValueInt(int64(c.Version)),
			keyIndex:       qc.NewValueInt(int64(c.Index)),
			keyText:        qc.NewValueString(c.Text),
			keyPage:        qc.NewValueInt(int64(c.Page)),
			keyTitle:       qc.NewValueString(c.Title),
			keySource:      qc.NewValueString(c.Source),
			keyContentHash: qc.NewValueString(c.ContentHash),
			keyStaged:      qc.NewValueBool(staged),
		},
	}
}

// passage reads the stored fields of a search hit from its point's
// payload; its IDs and score are the caller's, from the hit's candidate.
func passage(pl map[string]*qc.Value) retrieval.Passage {
	return retrieval.Passage{
		Text:   pl[keyText].GetStringValue(),
		Source: pl[keySource].GetStringValue(),
		Title:  pl[keyTitle].GetStringValue(),
		Page:   int(pl[keyPage].GetIntegerValue()),
	}
}

// docFilter selects every point of one document of one tenant, plus extra
// conditions.
func docFilter(tenant, documentID string, extra ...*qc.Condition) *qc.Filter {
	must := append([]*qc.Condition{
		qc.NewMatchKeyword(keyTenant, tenant),
		qc.NewMatchKeyword(keyDocumentID, documentID),
	}, extra...)
	return &qc.Filter{Must: must}
}

func ptr[T any](v T) *T { return &v }
