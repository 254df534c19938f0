package retrieval

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSearchSizes(t *testing.T) {
	t.Parallel()
	for in, want := range map[int][2]int{-1: {5, 20}, 0: {5, 20}, 1: {1, 20}, 5: {5, 20}, 10: {10, 40}, 100: {100, 400}, 101: {100, 400}} {
		k, candidates := SearchSizes(in)
		require.Equal(t, want, [2]int{k, candidates}, in)
	}
}

// TestFuse pins the ranking policy every index gets: lexical and dense
// candidates, each list min-max normalised, mixed 1-DenseWeight to
// DenseWeight.
func TestFuse(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0.25, DenseWeight, "the cases below are worked out for a dense share of 0.25")
	p := func(id string, score float64) Candidate {
		return Candidate{ChunkID: id, DocumentID: "doc-" + id, Score: score}
	}
	tests := []struct {
		name       string
		c          Candidates
		topK       int
		wantIDs    []string
		wantScores []float64
	}{
		{name: "nothing found", topK: 5, wantIDs: []string{}, wantScores: []float64{}},
		{
			name:       "lexical only",
			c:          Candidates{Lexical: []Candidate{p("a", 10), p("b", 4), p("c", 1)}},
			topK:       5,
			wantIDs:    []string{"a", "b", "c"},
			wantScores: []float64{0.75, 0.75 * 3 / 9, 0},
		},
		{
			name:       "dense only",
			c:          Candidates{Dense: []Candidate{p("a", 0.9), p("b", 0.5), p("c", 0.4)}},
			topK:       5,
			wantIDs:    []string{"a", "b", "c"},
			wantScores: []float64{0.25, 0.25 * 0.2, 0},
		},
		{
			// Dense prefers b and puts a last; a's lexical lead holds. d,
			// found by dense search alone, gets its share.
			name: "clear lexical winner holds",
			c: Candidates{
				Lexical: []Candidate{p("a", 10), p("b", 2), p("c", 1)},
				Dense:   []Candidate{p("b", 0.50), p("d", 0.49), p("a", 0.10)},
			},
			topK:       10,
			wantIDs:    []string{"a", "b", "d", "c"},
			wantScores: []float64{0.75, 0.75/9 + 0.25, 0.25 * 0.39 / 0.4, 0},
		},
		{
			// Lexically close, so the dense preference decides.
			name: "dense reorders close lexical candidates",
			c: Candidates{
				Lexical: []Candidate{p("a", 10), p("b", 9.8), p("c", 1)},
				Dense:   []Candidate{p("b", 0.9), p("c", 0.5), p("a", 0.1)},
			},
			topK:       10,
			wantIDs:    []string{"b", "a", "c"},
			wantScores: []float64{0.75*8.8/9 + 0.25, 0.75, 0.25 * 0.5},
		},
		{
			name:       "ties broken by chunk ID",
			c:          Candidates{Lexical: []Candidate{p("z", 3), p("y", 3)}, Dense: []Candidate{p("b", 0.7)}},
			topK:       10,
			wantIDs:    []string{"y", "z", "b"},
			wantScores: []float64{0.75, 0.75, 0.25},
		},
		{
			name:       "topK cuts",
			c:          Candidates{Lexical: []Candidate{p("a", 4), p("b", 3), p("c", 2), p("d", 1)}},
			topK:       2,
			wantIDs:    []string{"a", "b"},
			wantScores: []float64{0.75, 0.5},
		},
		{
			name:       "topK 0 keeps everything",
			c:          Candidates{Lexical: []Candidate{p("a", 4), p("b", 3), p("c", 2), p("d", 1)}},
			wantIDs:    []string{"a", "b", "c", "d"},
			wantScores: []float64{0.75, 0.5, 0.25, 0},
		},
		{
			name:       "duplicate within a list counts once",
			c:          Candidates{Lexical: []Candidate{p("a", 2), p("a", 1.5), p("b", 1)}},
			topK:       5,
			wantIDs:    []string{"a", "b"},
			wantScores: []float64{0.75, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Fuse(tt.c, tt.topK)
			require.Equal(t, tt.wantIDs, ids(got))
			for i, g := range got {
				require.InDelta(t, tt.wantScores[i], g.Score, 1e-9, g.ChunkID)
				require.Equal(t, "doc-"+g.ChunkID, g.DocumentID)
			}
		})
	}
}

func TestFuseFieldsAndInputs(t *testing.T) {
	t.Parallel()
	c := Candidates{
		Dense:   []Candidate{{ChunkID: "a", DocumentID: "d1", Score: 0.9}},
		Lexical: []Candidate{{ChunkID: "a", DocumentID: "d1", Score: 12}},
	}
	got := Fuse(c, 5)
	require.Equal(t, []Candidate{{ChunkID: "a", DocumentID: "d1", Score: 1}}, got)
	// The candidates are not modified.
	require.Equal(t, 0.9, c.Dense[0].Score)
	require.Equal(t, 12.0, c.Lexical[0].Score)
}

// candidateIndex is an Index that finds n lexical candidates for any query
// (or fails with err), ranks them by the fusion it is handed and keeps the
// query it was asked.
type candidateIndex struct {
	Index
	n   int
	err error
	got Query
}

func (x *candidateIndex) Search(_ context.Context, q Query, fuse Fusion) ([]Passage, error) {
	x.got = q
	if x.err != nil {
		return nil, x.err
	}
	k, _ := SearchSizes(q.TopK)
	return x.passages(fuse(x.candidates(), k)), nil
}

// candidates are the lexical candidates the index finds, c000 best.
func (x *candidateIndex) candidates() Candidates {
	var c Candidates
	for i := range x.n {
		c.Lexical = append(c.Lexical, Candidate{ChunkID: fmt.Sprintf("c%03d", i), DocumentID: "d", Score: float64(x.n - i)})
	}
	return c
}

// passages gives the chosen candidates their stored fields.
func (x *candidateIndex) passages(cs []Candidate) []Passage {
	out := make([]Passage, len(cs))
	for i, c := range cs {
		out[i] = Passage{ChunkID: c.ChunkID, DocumentID: c.DocumentID, Text: "text of " + c.ChunkID, Score: c.Score}
	}
	return out
}

func TestSearch(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ topK, want int }{{0, DefaultTopK}, {3, 3}, {MaxTopK + 50, MaxTopK}} {
		idx := &candidateIndex{n: 300}
		q := Query{Tenant: "acme", Text: "kiln", TopK: tt.topK}
		got, err := Search(context.Background(), idx, q)
		require.NoError(t, err)
		require.Equal(t, q, idx.got, "the query goes to the index as it is")
		require.Len(t, got, tt.want, "TopK %d", tt.topK)
		require.Equal(t, idx.passages(Fuse(idx.candidates(), tt.want)), got, "Search hands the index Fuse")
	}
	boom := errors.New("boom")
	_, err := Search(context.Background(), &candidateIndex{err: boom}, Query{Tenant: "acme"})
	require.ErrorIs(t, err, boom)
}
