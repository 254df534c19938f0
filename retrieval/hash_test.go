package retrieval

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHashEmbedderNameAndDim(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dim      int
		wantDim  int
		wantName string
	}{
		{0, 384, "hash-384"},
		{-1, 384, "hash-384"},
		{256, 256, "hash-256"},
		{7, 7, "hash-7"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.dim), func(t *testing.T) {
			t.Parallel()
			e := NewHashEmbedder(tt.dim)
			require.Equal(t, tt.wantDim, e.Dim())
			require.Equal(t, tt.wantName, e.Name())
			vs, err := e.Embed(context.Background(), []string{"some text here", ""})
			require.NoError(t, err)
			require.Len(t, vs, 2)
			require.Len(t, vs[0], tt.wantDim)
			require.Len(t, vs[1], tt.wantDim)
		})
	}
}

func TestHashEmbedderDeterministicAndNormalised(t *testing.T) {
	t.Parallel()
	texts := []string{
		"Redis streams carry job events to subscribers.",
		"Größe und Gewicht: naïve café",
		"the of and", // stop words only
		"",
		strings.Repeat("repeated words words words ", 50),
	}
	a, err := NewHashEmbedder(128).Embed(context.Background(), texts)
	require.NoError(t, err)
	// A second embedder, texts one at a time and in reverse order: the
	// scratch state must not leak between texts.
	e := NewHashEmbedder(128)
	for i := len(texts) - 1; i >= 0; i-- {
		b, err := e.Embed(context.Background(), []string{texts[i]})
		require.NoError(t, err)
		require.Equal(t, a[i], b[0], "text %d", i)
	}
	for i, v := range a {
		norm := math.Sqrt(float64(Dot(v, v)))
		if i == 2 || i == 3 {
			require.Zero(t, norm, "text %d has no features", i)
			continue
		}
		require.InDelta(t, 1, norm, 1e-5, "text %d", i)
	}
}

func TestHashEmbedderSimilarity(t *testing.T) {
	t.Parallel()
	e := NewHashEmbedder(384)
	tests := []struct {
		name              string
		anchor, near, far string
	}{
		{
			"paraphrase",
			"How do I reset my password?",
			"To reset a forgotten password, open the account settings and choose reset password.",
			"The warehouse ships orders every Tuesday from the northern depot.",
		},
		{
			"inflection",
			"indexing documents with embeddings",
			"the indexer embeds each document",
			"quarterly revenue grew in the retail segment",
		},
		{
			"typo via char grams",
			"kubernetes deployment",
			"kubernets deploymnt",
			"chocolate cake recipe",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			vs, err := e.Embed(context.Background(), []string{tt.anchor, tt.near, tt.far})
			require.NoError(t, err)
			near, far := Dot(vs[0], vs[1]), Dot(vs[0], vs[2])
			require.Greater(t, near, far+0.1, "near=%.3f far=%.3f", near, far)
		})
	}
}

func TestHashEmbedderHonoursContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewHashEmbedder(16).Embed(ctx, []string{"a text"})
	require.ErrorIs(t, err, context.Canceled)

	vs, err := NewHashEmbedder(16).Embed(context.Background(), nil)
	require.NoError(t, err)
	require.Empty(t, vs)
}

func TestHashEmbedderConcurrent(t *testing.T) {
	t.Parallel()
	e := NewHashEmbedder(64)
	want, err := e.Embed(context.Background(), []string{"concurrent embedding of the same text"})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				got, err := e.Embed(context.Background(), []string{"other text first", "concurrent embedding of the same text"})
				if err != nil || !slicesEqual(got[1], want[0]) {
					t.Errorf("concurrent embed differs: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func slicesEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// benchTexts returns n pseudo-English texts of about size bytes each.
func benchTexts(n, size int) []string {
	vocab := strings.Fields(`the queue worker retries failed jobs with exponential backoff while
	the api enqueues documents for parsing chunking embedding and indexing tenants upload pdf files
	html pages markdown notes search hybrid lexical dense vectors citations answers generator
	redis asynq sqlite qdrant latency throughput percentile benchmark memory allocation`)
	r := rand.New(rand.NewPCG(1, 2))
	texts := make([]string, n)
	for i := range texts {
		var b strings.Builder
		for b.Len() < size {
			b.WriteString(vocab[r.IntN(len(vocab))])
			if r.IntN(12) == 0 {
				b.WriteString(". ")
			} else {
				b.WriteByte(' ')
			}
		}
		texts[i] = b.String()
	}
	return texts
}

func BenchmarkHashEmbed(b *testing.B) {
	texts := benchTexts(64, 1024)
	e := NewHashEmbedder(384)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.Embed(ctx, texts); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(texts))/b.Elapsed().Seconds(), "texts/s")
}
