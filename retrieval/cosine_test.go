package retrieval

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func naiveDot(a, b []float32) float64 {
	var s float64
	for i := range min(len(a), len(b)) {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestDot(t *testing.T) {
	t.Parallel()
	for _, n := range []int{0, 1, 3, 7, 8, 9, 15, 16, 17, 384, 1000} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			t.Parallel()
			r := rand.New(rand.NewPCG(3, uint64(n))) // one per subtest: they run in parallel
			a, b := make([]float32, n), make([]float32, n)
			for i := range a {
				a[i], b[i] = r.Float32()*2-1, r.Float32()*2-1
			}
			require.InDelta(t, naiveDot(a, b), float64(Dot(a, b)), 1e-4)
		})
	}
	// Different lengths: the common prefix counts.
	require.InDelta(t, 1*4+2*5, Dot([]float32{1, 2, 3}, []float32{4, 5}), 1e-6)
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	v := []float32{3, 4}
	Normalize(v)
	require.InDelta(t, 0.6, v[0], 1e-6)
	require.InDelta(t, 0.8, v[1], 1e-6)
	require.InDelta(t, 1, Dot(v, v), 1e-6)
	z := []float32{0, 0}
	Normalize(z)
	require.Equal(t, []float32{0, 0}, z)
}

func BenchmarkDot(b *testing.B) {
	for _, dim := range []int{384, 768, 1536} {
		b.Run(fmt.Sprint(dim), func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			x, y := make([]float32, dim), make([]float32, dim)
			for i := range x {
				x[i], y[i] = r.Float32(), r.Float32()
			}
			var sink float32
			for b.Loop() {
				sink += Dot(x, y)
			}
			_ = sink
			b.ReportMetric(2*float64(b.N*dim)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
