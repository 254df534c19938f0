package qdrant_test

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage/qdrant"
	"github.com/ragqueue/ragqueue/storage/qdrant/qdranttest"
)

// BenchmarkQdrantSearch measures retrieval.Search on the Index through
// gRPC against the in-process fake (qdranttest), at 10k and 100k chunks of
// dimension 384 spread over 10 tenants, reporting per-query p50 and p95.
// The fake searches by brute force under one lock, so the figures measure
// the adapter plus a linear scan, not Qdrant's HNSW; the Ping sub-benchmark
// is the same-run baseline of one gRPC round trip. 100k is skipped with
// -short.
func BenchmarkQdrantSearch(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			if n > 10_000 && testing.Short() {
				b.Skip("-short")
			}
			ix, queries := benchIndex(b, n)
			ctx := context.Background()
			b.Run("Ping", func(b *testing.B) {
				benchLatency(b, func(int) error { return ix.Ping(ctx) })
			})
			for _, mode := range []string{"hybrid", "dense", "lexical"} {
				b.Run(mode, func(b *testing.B) {
					benchLatency(b, func(i int) error {
						q := queries[i%len(queries)]
						switch mode {
						case "dense":
							q.Text = ""
						case "lexical":
							q.Vector = nil
						}
						ps, err := retrieval.Search(ctx, ix, q)
						if err == nil && len(ps) == 0 {
							err = fmt.Errorf("no hits for %q", q.Text)
						}
						return err
					})
				})
			}
		})
	}
}

// benchLatency runs fn b.N times and reports the p50 and p95 of its
// latency in milliseconds.
func benchLatency(b *testing.B, fn func(i int) error) {
	b.Helper()
	var lat []time.Duration
	i := 0
	for b.Loop() {
		start := time.Now()
		if err := fn(i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		i++
	}
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.95), "p95-ms")
}

// benchIndex fills a fresh fake with n synthetic chunks and returns the
// index and hybrid queries (three words of a stored chunk, embedded) of
// tenant 0.
func benchIndex(b *testing.B, n int) (*qdrant.Index, []retrieval.Query) {
	b.Helper()
	ctx := context.Background()
	srv := qdranttest.New(b)
	sp, err := qdrant.Open(ctx, qdrant.Config{Addr: srv.Addr(), CollectionPrefix: "bench"}, slog.New(slog.DiscardHandler))
	require.NoError(b, err)
	b.Cleanup(func() { _ = sp.Close() })
	ix, err := sp.OpenIndex(ctx, retrieval.Space{Name: "hash-384", Embedder: "hash:384", Dim: 384})
	require.NoError(b, err)
	emb := retrieval.NewHashEmbedder(384)
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 5000)
	for i := range vocab {
		vocab[i] = fmt.Sprintf("term%dx", i)
	}
	var queryTexts []string
	const batch = 2000
	for start := 0; start < n; start += batch {
		texts := make([]string, min(batch, n-start))
		for i := range texts {
			words := make([]string, 80)
			for w := range words {
				words[w] = vocab[rng.IntN(len(vocab))]
			}
			texts[i] = strings.Join(words, " ")
			if (start+i)%10 == 0 && len(queryTexts) < 200 {
				queryTexts = append(queryTexts, strings.Join(words[10:13], " "))
			}
		}
		vecs, err := emb.Embed(ctx, texts)
		require.NoError(b, err)
		chunks := make([]retrieval.IndexedChunk, len(texts))
		for i := range texts {
			id := start + i
			chunks[i] = retrieval.IndexedChunk{
				ID: fmt.Sprintf("chunk-%d", id), Tenant: fmt.Sprintf("tenant-%d", id%10),
				DocumentID: fmt.Sprintf("doc-%d", id/50), Index: id % 50, Text: texts[i], Vector: vecs[i],
				Title: "Synthetic", Source: "bench",
			}
		}
		require.NoError(b, ix.Upsert(ctx, chunks))
	}
	qvecs, err := emb.Embed(ctx, queryTexts)
	require.NoError(b, err)
	queries := make([]retrieval.Query, len(queryTexts))
	for i, text := range queryTexts {
		queries[i] = retrieval.Query{Tenant: "tenant-0", Text: text, Vector: qvecs[i], TopK: 10}
	}
	return ix, queries
}
