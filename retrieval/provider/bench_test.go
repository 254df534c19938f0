package provider

import (
	"context"
	"strconv"
	"testing"

	"github.com/ragqueue/ragqueue/retrieval/provider/providertest"
)

// BenchmarkEmbedThroughput embeds 256 texts per op against the fake
// OpenAI server on loopback, at batch sizes 1 and 64: what batching saves
// in per-request overhead (the fake's work per text is negligible).
func BenchmarkEmbedThroughput(b *testing.B) {
	in := texts(256)
	for _, batch := range []int{1, 64} {
		b.Run("batch="+strconv.Itoa(batch), func(b *testing.B) {
			srv := providertest.NewOpenAI(b, providertest.Options{Dim: 384})
			emb, err := NewEmbedder(context.Background(), "openai:text-embedding-3-small",
				Options{BaseURL: srv.URL, APIKey: "sk-bench", BatchSize: batch, Logger: quietLogger()})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				if _, err := emb.Embed(context.Background(), in); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*len(in))/b.Elapsed().Seconds(), "texts/s")
		})
	}
}
