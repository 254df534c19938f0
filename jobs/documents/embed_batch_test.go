package documents_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/ragqueue/ragqueue"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// TestCrossDocumentBatches checks that with BatchEmbeds, small documents'
// embeddings are aggregated by the Asynq group into batches that carry
// several documents' chunks per Embed call, on a real Redis and on
// miniredis (embedded mode), and that every document ends ready.
func TestCrossDocumentBatches(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		redis func(t *testing.T) asynq.RedisClientOpt
	}{
		{"redis", func(t *testing.T) asynq.RedisClientOpt { return redisServer.NewDB(t) }},
		{"miniredis", func(t *testing.T) asynq.RedisClientOpt { return redistest.Miniredis(t) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := &pipelineBundle{env: newEnv(t, tt.redis(t)), tenant: "acme"}
			emb := &countingEmbedder{Embedder: retrieval.NewHashEmbedder(dim)}
			d := b.Deps(b.Asynq)
			d.Embedder, d.BatchEmbeds = emb, true
			b.StartWorker(t, d)

			const n = 8
			var docs []ragqueue.Document
			for i := range n {
				doc := b.AddDocument(t, b.tenant, ingest.TypeText, fmt.Sprintf("Batch note %d: the loom number %d weaves linen.", i, i))
				require.NoError(t, b.EnqueueIngest(t.Context(), doc))
				docs = append(docs, doc)
			}
			for _, doc := range docs {
				job := b.WaitJob(t, b.tenant, doc.JobID)
				require.Equal(t, ragqueue.StateSucceeded, job.State, job.Error)
				got := b.GetDocument(t, b.tenant, doc.ID)
				require.Equal(t, ragqueue.StatusReady, got.Status)
				require.NotEmpty(t, b.IndexedChunkIDs(t, b.tenant, doc.ID))
				var res struct {
					Chunks       int `json:"chunks"`
					ChunksReused int `json:"chunks_reused"`
				}
				require.NoError(t, json.Unmarshal(job.Result, &res))
				require.Positive(t, res.Chunks)
				require.Zero(t, res.ChunksReused, "a new document's vectors were made by the batch, not reused")
			}
			calls := emb.CallSizes()
			require.Less(t, len(calls), n, "fewer Embed calls than documents: %v", calls)
			require.Greater(t, maxOf(calls), 1, "a call carried several documents' chunks: %v", calls)
		})
	}
}

func maxOf(xs []int) int {
	m := 0
	for _, x := range xs {
		m = max(m, x)
	}
	return m
}
