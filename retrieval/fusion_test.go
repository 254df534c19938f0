package retrieval

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFuseConvex(t *testing.T) {
	t.Parallel()
	p := func(id string, score float64, text string) Passage {
		return Passage{ChunkID: id, Score: score, Text: text}
	}
	// Lexically, a is far ahead of b and c; dense search mildly prefers b.
	lexical := []Passage{p("a", 10, "text a"), p("b", 2, "text b"), p("c", 1, "text c")}
	dense := []Passage{p("b", 0.50, ""), p("a", 0.48, ""), p("d", 0.10, "")}
	tests := []struct {
		name   string
		weight float64 // of dense
		want   []string
	}{
		{"lexical only", 0, []string{"a", "b", "c", "d"}},
		// a: 0.75×1 + 0.25×0.95, b: 0.75×0.11 + 0.25×1.
		{"small dense share keeps a clear winner", 0.25, []string{"a", "b", "c", "d"}},
		{"dense only", 1, []string{"b", "a", "c", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := fuseConvex(0, ranked{Passages: lexical, Weight: 1 - tt.weight}, ranked{Passages: dense, Weight: tt.weight})
			require.Equal(t, tt.want, ids(got))
			b := slices.IndexFunc(got, func(p Passage) bool { return p.ChunkID == "b" })
			require.Equal(t, "text b", got[b].Text, "fields come from the list with text")
		})
	}
	got := fuseConvex(2, ranked{Passages: lexical, Weight: 0.75}, ranked{Passages: dense, Weight: 0.25})
	require.Len(t, got, 2)
	require.InDelta(t, 0.75+0.25*0.95, got[0].Score, 1e-9)
	// A one-passage list normalises to 1; an empty one adds nothing.
	one := fuseConvex(0, ranked{Passages: []Passage{p("x", 3, "x")}, Weight: 0.5}, ranked{Weight: 0.5})
	require.Equal(t, []Passage{p("x", 0.5, "x")}, one)
}

func ids(ps []Passage) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ChunkID
	}
	return out
}
