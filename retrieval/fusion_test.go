package retrieval

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFuseConvex(t *testing.T) {
	t.Parallel()
	p := func(id string, score float64) Candidate {
		return Candidate{ChunkID: id, DocumentID: "doc-" + id, Score: score}
	}
	// Lexically, a is far ahead of b and c; dense search mildly prefers b.
	lexical := []Candidate{p("a", 10), p("b", 2), p("c", 1)}
	dense := []Candidate{p("b", 0.50), p("a", 0.48), p("d", 0.10)}
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
			got := fuseConvex(0, ranked{Candidates: lexical, Weight: 1 - tt.weight}, ranked{Candidates: dense, Weight: tt.weight})
			require.Equal(t, tt.want, ids(got))
			b := slices.IndexFunc(got, func(c Candidate) bool { return c.ChunkID == "b" })
			require.Equal(t, "doc-b", got[b].DocumentID, "the document comes with the chunk")
		})
	}
	got := fuseConvex(2, ranked{Candidates: lexical, Weight: 0.75}, ranked{Candidates: dense, Weight: 0.25})
	require.Len(t, got, 2)
	require.InDelta(t, 0.75+0.25*0.95, got[0].Score, 1e-9)
	// A one-passage list normalises to 1; an empty one adds nothing.
	one := fuseConvex(0, ranked{Candidates: []Candidate{p("x", 3)}, Weight: 0.5}, ranked{Weight: 0.5})
	require.Equal(t, []Candidate{p("x", 0.5)}, one)
}

func ids(cs []Candidate) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.ChunkID
	}
	return out
}
