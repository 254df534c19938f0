package retrieval

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFuseWeightedRRF(t *testing.T) {
	t.Parallel()
	ps := func(ids ...string) []Passage {
		out := make([]Passage, len(ids))
		for i, id := range ids {
			out[i] = Passage{ChunkID: id, Text: "text " + id}
		}
		return out
	}
	ids := func(ps []Passage) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.ChunkID
		}
		return out
	}
	lexical, dense := ps("b", "a", "c"), ps("a", "b", "d")
	tests := []struct {
		name        string
		denseWeight float64
		want        []string
	}{
		// a is (2, 1), b is (1, 2): equal scores, the chunk ID decides.
		{"equal weights tie", 1, []string{"a", "b", "c", "d"}},
		{"lexical breaks the tie", 0.75, []string{"b", "a", "c", "d"}},
		{"dense breaks the tie", 1.5, []string{"a", "b", "d", "c"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := FuseWeightedRRF(0, 0, Ranked{Passages: lexical, Weight: 1}, Ranked{Passages: dense, Weight: tt.denseWeight})
			require.Equal(t, tt.want, ids(got))
		})
	}
	// Equal weights are FuseRRF, scores included.
	require.Equal(t, FuseRRF(0, 3, lexical, dense),
		FuseWeightedRRF(0, 3, Ranked{Passages: lexical, Weight: 1}, Ranked{Passages: dense, Weight: 1}))
}
