package retrieval

import (
	"testing"

	"github.com/ragqueue/ragqueue"

	"github.com/stretchr/testify/require"
)

func TestParseCitations(t *testing.T) {
	t.Parallel()
	passages := []Passage{
		{DocumentID: "d1", ChunkID: "d1:0", Source: "s1", Title: "T1", Page: 2, Text: "First\npassage."},
		{DocumentID: "d2", ChunkID: "d2:5", Source: "s2", Title: "T2", Text: "Second passage."},
		{DocumentID: "d3", ChunkID: "d3:1", Text: "Third passage."},
	}
	for _, tc := range []struct {
		name, in, out string
		indexes       []int
	}{
		{"single", "Yes [1].", "Yes [1].", []int{1}},
		{"adjacent_and_order", "A [3][1]. B [2].", "A [3][1]. B [2].", []int{1, 2, 3}},
		{"list", "A [1, 3].", "A [1, 3].", []int{1, 3}},
		{"out_of_range_removed", "A [4]. B [0].", "A. B.", nil},
		{"out_of_range_in_list", "A [2, 9].", "A [2].", []int{2}},
		{"adjacent_out_of_range", "A [1][7].", "A [1].", []int{1}},
		{"repeated_cited_once", "A [2]. B [2].", "A [2]. B [2].", []int{2}},
		{"no_markers", "Plain text.", "Plain text.", nil},
		{"not_a_marker", "Array a[i] and [x].", "Array a[i] and [x].", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, cits := ParseCitations(tc.in, passages)
			require.Equal(t, tc.out, out)
			var idx []int
			for _, c := range cits {
				idx = append(idx, c.Index)
				p := passages[c.Index-1]
				require.Equal(t, ragqueue.Citation{Index: c.Index, DocumentID: p.DocumentID, ChunkID: p.ChunkID, Source: p.Source,
					Title: p.Title, Page: p.Page, Snippet: collapseSpaces(p.Text)}, c)
			}
			require.Equal(t, tc.indexes, idx)
			require.NotNil(t, cits)
		})
	}
}
