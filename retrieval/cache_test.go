package retrieval_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

func TestNormalizeQuestion(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"What is the X100?", "what is the x100"},
		{"  what   is\tthe\nX100 ?!  ", "what is the x100"},
		{"What's the e-mail?", "what s the e mail"},
		{"Größe — ÜBER 10€?", "größe über 10"},
		{"", ""},
		{"?!…", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, retrieval.NormalizeQuestion(tt.in))
		})
	}
}

func TestCosine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b []float32
		want float64
	}{
		{"same", []float32{1, 2, 3}, []float32{1, 2, 3}, 1},
		{"scaled", []float32{1, 2, 3}, []float32{2, 4, 6}, 1},
		{"orthogonal", []float32{1, 0}, []float32{0, 1}, 0},
		{"opposite", []float32{1, 0}, []float32{-1, 0}, -1},
		{"other dimension", []float32{1, 0}, []float32{1, 0, 0}, 0},
		{"zero", []float32{0, 0}, []float32{1, 0}, 0},
		{"empty", nil, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tt.want, retrieval.Cosine(tt.a, tt.b), 1e-6)
		})
	}
}

func TestNearestQuestion(t *testing.T) {
	t.Parallel()
	q := []float32{1, 0}
	cands := [][]float32{{0, 1}, {0.96, 0.28}, {0.99, 0.14}, {0.99, 0.14}}
	i, sim, ok := retrieval.NearestQuestion(q, cands, 0.95)
	require.True(t, ok)
	require.Equal(t, 2, i, "the most similar, the earlier of equals")
	require.InDelta(t, 0.990, sim, 0.001)
	_, _, ok = retrieval.NearestQuestion(q, cands, 0.995)
	require.False(t, ok)
	_, _, ok = retrieval.NearestQuestion(q, nil, 0.5)
	require.False(t, ok)
}
