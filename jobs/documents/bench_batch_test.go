package documents_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval/provider"
	"github.com/ragqueue/ragqueue/retrieval/provider/providertest"
)

// BenchmarkEmbedThroughput measures texts embedded per second when many
// small documents are ingested through an OpenAI-compatible provider (a
// loopback fake that takes 100 ms per call, as a hosted embedding API
// does), with and without cross-document batching, in the same run.
func BenchmarkEmbedThroughput(b *testing.B) {
	const docs = 200
	for _, batched := range []bool{false, true} {
		b.Run(fmt.Sprintf("batched=%v", batched), func(b *testing.B) {
			fake := providertest.NewOpenAI(b, providertest.Options{Dim: 64, Hold: func(int, string) <-chan struct{} {
				c := make(chan struct{})
				time.AfterFunc(100*time.Millisecond, func() { close(c) })
				return c
			}})
			emb, err := provider.NewEmbedder(b.Context(), "openai:bench-embed", provider.Options{BaseURL: fake.URL, APIKey: "k"})
			require.NoError(b, err)
			var texts, calls int
			var elapsed time.Duration
			for i := 0; i < b.N; i++ {
				e := newEnv(b, redisServer.NewDB(b))
				d := e.Deps(e.Asynq)
				d.Embedder, d.BatchEmbeds, d.InlineEmbedChunks = emb, batched, 0
				srv := jobs.NewServer(e.Redis, jobs.ServerConfig{Concurrency: 8, Logger: e.Logger, PollInterval: 20 * time.Millisecond})
				require.NoError(b, srv.Start(e.WorkerMux(d)))
				before := len(fake.RequestsTo("/embeddings"))
				start := time.Now()
				var ids []ragqueue.Document
				for j := range docs {
					doc := e.AddDocument(b, "acme", ingest.TypeText, fmt.Sprintf("Short note %d about loom %d and its linen warp.", j, j))
					require.NoError(b, e.EnqueueIngest(b.Context(), doc))
					ids = append(ids, doc)
				}
				for _, doc := range ids {
					job, err := e.Client.Wait(b.Context(), "acme", doc.JobID)
					require.NoError(b, err)
					require.Equal(b, ragqueue.StateSucceeded, job.State, job.Error)
				}
				elapsed += time.Since(start)
				srv.Shutdown()
				texts += docs
				calls += len(fake.RequestsTo("/embeddings")) - before
			}
			b.ReportMetric(float64(texts)/elapsed.Seconds(), "texts/s")
			b.ReportMetric(float64(calls)/float64(b.N), "calls/op")
		})
	}
}
