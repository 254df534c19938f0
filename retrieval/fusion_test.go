package retrieval

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func ids(ps []Passage) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ChunkID
	}
	return out
}

func pl(chunkIDs ...string) []Passage {
	out := make([]Passage, len(chunkIDs))
	for i, id := range chunkIDs {
		out[i] = Passage{ChunkID: id, Text: "text of " + id}
	}
	return out
}

func TestFuseRRF(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		k, topK    int
		lists      [][]Passage
		wantIDs    []string
		wantScores []float64
	}{
		{
			name:       "no lists",
			k:          60,
			topK:       5,
			wantIDs:    []string{},
			wantScores: []float64{},
		},
		{
			name:       "one list keeps order",
			k:          60,
			topK:       5,
			lists:      [][]Passage{pl("a", "b", "c")},
			wantIDs:    []string{"a", "b", "c"},
			wantScores: []float64{1.0 / 61, 1.0 / 62, 1.0 / 63},
		},
		{
			name:       "shared chunk wins",
			k:          60,
			topK:       10,
			lists:      [][]Passage{pl("a", "b", "c"), pl("c", "d")},
			wantIDs:    []string{"c", "a", "b", "d"},
			wantScores: []float64{1.0/63 + 1.0/61, 1.0 / 61, 1.0 / 62, 1.0 / 62},
		},
		{
			name:       "ties broken by chunk id",
			k:          1,
			topK:       10,
			lists:      [][]Passage{pl("z", "y"), pl("b", "a")},
			wantIDs:    []string{"b", "z", "a", "y"},
			wantScores: []float64{0.5, 0.5, 1.0 / 3, 1.0 / 3},
		},
		{
			name:       "topK cuts",
			k:          60,
			topK:       2,
			lists:      [][]Passage{pl("a", "b", "c", "d")},
			wantIDs:    []string{"a", "b"},
			wantScores: []float64{1.0 / 61, 1.0 / 62},
		},
		{
			name:       "k and topK defaults",
			k:          0,
			topK:       0,
			lists:      [][]Passage{pl("a", "b", "c")},
			wantIDs:    []string{"a", "b", "c"},
			wantScores: []float64{1.0 / 61, 1.0 / 62, 1.0 / 63},
		},
		{
			name:       "duplicate within a list counts once",
			k:          60,
			topK:       5,
			lists:      [][]Passage{pl("a", "a", "b")},
			wantIDs:    []string{"a", "b"},
			wantScores: []float64{1.0 / 61, 1.0 / 63},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := FuseRRF(tt.k, tt.topK, tt.lists...)
			require.NotNil(t, got)
			require.Equal(t, tt.wantIDs, ids(got))
			for i, p := range got {
				require.InDelta(t, tt.wantScores[i], p.Score, 1e-12, p.ChunkID)
			}
		})
	}
}

func TestFuseRRFFieldsFromTextBearingList(t *testing.T) {
	t.Parallel()
	dense := []Passage{{ChunkID: "a", Score: 0.9}}
	lexical := []Passage{{ChunkID: "a", Text: "alpha", DocumentID: "d1", Title: "T", Source: "s", Page: 3, Score: 12}}
	got := FuseRRF(60, 5, dense, lexical)
	require.Equal(t, []Passage{{ChunkID: "a", Text: "alpha", DocumentID: "d1", Title: "T", Source: "s", Page: 3, Score: 2.0 / 61}}, got)
	// Inputs are not modified.
	require.Equal(t, 0.9, dense[0].Score)
}
