package sqlite

import (
	"fmt"
	"math"
	"math/rand"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

// synthVocab returns n distinct words: English stop words first, then
// pronounceable inventions. Drawn with a Zipf law they give texts whose
// term statistics look like prose to bm25: the most frequent words are
// stop words that the tokenizer drops, as in real text.
func synthVocab(r *rand.Rand, n int) []string {
	syll := strings.Fields("ka lo mi ra te su no ve da pi go ze bu ri ta ma ne so lu fi ha jo ke wu")
	out := strings.Fields(`the of and to a in is that for it as was with be by on not he this are or his
	from at which but have an they you were her she there been one all we their has would when what`)
	seen := make(map[string]bool, n)
	for _, w := range out {
		seen[w] = true
	}
	for len(out) < n {
		var b strings.Builder
		for range 2 + r.Intn(3) {
			b.WriteString(syll[r.Intn(len(syll))])
		}
		if w := b.String(); !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

func synthText(r *rand.Rand, z *rand.Zipf, vocab []string, words int) string {
	var b strings.Builder
	for i := range words {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(vocab[z.Uint64()])
		if r.Intn(15) == 0 {
			b.WriteByte('.')
		}
	}
	return b.String()
}

// BenchmarkIndexSearch measures hybrid search (BM25 + brute-force cosine
// over 384-dimensional vectors, fused) and each retriever alone on one
// tenant of 10k and of 100k chunks of about 80 words, and reports the
// latency percentiles beside the brute-force floor: the time to read every
// vector once at the memory bandwidth measured in the same run.
func BenchmarkIndexSearch(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("%dk", n/1000), func(b *testing.B) {
			benchmarkIndexSearch(b, n)
		})
	}
}

func benchmarkIndexSearch(b *testing.B, n int) {
	const dim, batch = 384, 5000
	ib := setupIndex(b, dim)
	r := rand.New(rand.NewSource(1))
	vocab := synthVocab(r, 20_000)
	z := rand.NewZipf(r, 1.1, 2, uint64(len(vocab)-1))

	setupStart := time.Now()
	texts := make([]string, batch)
	for start := 0; start < n; start += batch {
		for i := range texts {
			texts[i] = synthText(r, z, vocab, 80)
		}
		vecs, err := ib.emb.Embed(ib.ctx, texts)
		require.NoError(b, err)
		chunks := make([]retrieval.IndexedChunk, batch)
		for i := range chunks {
			id := start + i
			chunks[i] = retrieval.IndexedChunk{
				ID: fmt.Sprintf("chunk-%07d", id), Tenant: "bench", DocumentID: fmt.Sprintf("doc-%05d", id/20),
				Index: id % 20, Text: texts[i], Vector: vecs[i], Title: "Benchmark", Source: "text",
			}
		}
		require.NoError(b, ib.ix.Upsert(ib.ctx, chunks))
	}
	b.Logf("setup of %d chunks: %s", n, time.Since(setupStart).Round(time.Millisecond))

	queries := make([]retrieval.Query, 256)
	for i := range queries {
		text := synthText(r, z, vocab, 3+r.Intn(4))
		vecs, err := ib.emb.Embed(ib.ctx, []string{text})
		require.NoError(b, err)
		queries[i] = retrieval.Query{Tenant: "bench", Text: text, Vector: vecs[0], TopK: 8}
	}
	// The first search loads the tenant (vectors and BM25 index) from the
	// file: that is not steady state, but what a restart or another
	// process's write costs; it is reported as load-ms.
	loadStart := time.Now()
	_, err := retrieval.Search(ib.ctx, ib.ix, queries[0])
	require.NoError(b, err)
	load := float64(time.Since(loadStart)) / 1e6
	// The floor: reading every vector once at the bandwidth this machine
	// gives now, measured in the same run.
	floor := float64(n*dim*4) / measureBandwidth() * 1e3

	// Hybrid is what the API runs; the single retrievers show where the
	// time goes.
	for _, mode := range []struct {
		name         string
		text, vector bool
	}{{"hybrid", true, true}, {"lexical", true, false}, {"dense", false, true}} {
		b.Run(mode.name, func(b *testing.B) {
			var durations []time.Duration
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				q := queries[i%len(queries)]
				if !mode.text {
					q.Text = ""
				}
				if !mode.vector {
					q.Vector = nil
				}
				start := time.Now()
				ps, err := retrieval.Search(ib.ctx, ib.ix, q)
				durations = append(durations, time.Since(start))
				if err != nil || (mode.vector && len(ps) == 0) {
					b.Fatalf("search: %d hits, %v", len(ps), err)
				}
				i++
			}
			slices.Sort(durations)
			pct := func(p float64) float64 {
				return float64(durations[int(p*float64(len(durations)-1))]) / 1e6
			}
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.95), "p95-ms")
			b.ReportMetric(floor, "floor-ms")
			b.ReportMetric(load, "load-ms")
		})
	}
}

// bandwidthFloats is the buffer measureBandwidth streams through: 256 MiB,
// far beyond any cache.
const bandwidthFloats = 64 << 20

// measureBandwidth returns the bytes per second GOMAXPROCS goroutines read
// from memory, each summing its share of a buffer larger than the caches
// (as the dense scan splits its work), best of three passes.
func measureBandwidth() float64 {
	buf := make([]float32, bandwidthFloats)
	for i := range buf {
		buf[i] = float32(i & 7)
	}
	workers := runtime.GOMAXPROCS(0)
	sums := make([]float32, workers)
	best := time.Duration(math.MaxInt64)
	for range 3 {
		start := time.Now()
		var wg sync.WaitGroup
		for w := range workers {
			part := buf[w*len(buf)/workers : (w+1)*len(buf)/workers]
			wg.Go(func() { sums[w] = sumFloats(part) })
		}
		wg.Wait()
		best = min(best, time.Since(start))
	}
	if sums[0] < 0 { // keeps the sums alive
		panic("negative sum")
	}
	return float64(4*len(buf)) / best.Seconds()
}

// sumFloats adds up v with four accumulators, so that the loop is bound by
// memory, not by the latency of one add chain.
func sumFloats(v []float32) float32 {
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(v); i += 4 {
		vv := v[i : i+4 : i+4]
		s0 += vv[0]
		s1 += vv[1]
		s2 += vv[2]
		s3 += vv[3]
	}
	for ; i < len(v); i++ {
		s0 += v[i]
	}
	return s0 + s1 + s2 + s3
}

// BenchmarkMemoryBandwidth reports the read bandwidth the brute-force
// floor of BenchmarkIndexSearch is computed from.
func BenchmarkMemoryBandwidth(b *testing.B) {
	var bw float64
	for b.Loop() {
		bw = measureBandwidth()
	}
	b.ReportMetric(bw/1e9, "GB/s")
}
