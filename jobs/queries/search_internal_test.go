package queries

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// queryRecorder is an index that keeps the query it is asked and finds
// the same candidates whatever the query, ranked by the fusion it is
// handed.
type queryRecorder struct {
	retrieval.Index
	got retrieval.Query
}

func (r *queryRecorder) Search(_ context.Context, q retrieval.Query, fuse retrieval.Fusion) ([]retrieval.Passage, error) {
	r.got = q
	k, _ := retrieval.SearchSizes(q.TopK)
	return passages(fuse(recorded(), k)), nil
}

func recorded() retrieval.Candidates {
	return retrieval.Candidates{Lexical: []retrieval.Candidate{{DocumentID: "d1"}}}
}

// passages are the chosen candidates as the recorder returns them.
func passages(cs []retrieval.Candidate) []retrieval.Passage {
	out := make([]retrieval.Passage, len(cs))
	for i, c := range cs {
		out[i] = retrieval.Passage{ChunkID: c.ChunkID, DocumentID: c.DocumentID, Score: c.Score}
	}
	return out
}

// TestSearchModes checks what each mode sends to the index: the text for
// the lexical part, its vector for the dense part, both when hybrid.
func TestSearchModes(t *testing.T) {
	t.Parallel()
	emb := retrieval.NewHashEmbedder(16)
	tests := []struct {
		mode                string
		wantText, wantDense bool
	}{
		{ModeHybrid, true, true},
		{ModeLexical, true, false},
		{ModeDense, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			t.Parallel()
			require.NoError(t, CheckMode(tt.mode))
			idx := &queryRecorder{}
			got, err := search(context.Background(), emb, idx, SearchRequest{Tenant: "acme", Mode: tt.mode, Text: "kiln glaze", TopK: 7}, nil)
			require.NoError(t, err)
			require.Equal(t, passages(retrieval.Fuse(recorded(), 7)), got)
			require.Equal(t, "acme", idx.got.Tenant)
			require.Equal(t, 7, idx.got.TopK)
			if tt.wantText {
				require.Equal(t, "kiln glaze", idx.got.Text)
			} else {
				require.Empty(t, idx.got.Text)
			}
			if tt.wantDense {
				require.Len(t, idx.got.Vector, 16)
			} else {
				require.Nil(t, idx.got.Vector)
			}
		})
	}
	err := CheckMode("fuzzy")
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.ErrorContains(t, err, "hybrid, lexical or dense")
}
