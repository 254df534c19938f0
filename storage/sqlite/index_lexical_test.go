package sqlite

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval"
)

func newTestSet() *tenantSet {
	return &tenantSet{slot: make(map[string]int), lex: newLexicon(0)}
}

func lexicalIDs(set *tenantSet, text string, filter map[string]struct{}, n int) []string {
	scores := make([]float32, len(set.ids))
	hits := set.lexicalTopK(text, filter, n, scores)
	if slices.ContainsFunc(scores, func(f float32) bool { return f != 0 }) {
		panic("lexicalTopK left its scratch dirty")
	}
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = set.ids[h.slot]
	}
	return out
}

func TestLexicalBM25(t *testing.T) {
	t.Parallel()
	set := newTestSet()
	for i, text := range []string{
		"queues queues queues and workers", // tf 3
		"a queue of jobs",
		"workers run jobs",
		"nothing relevant here at all",
		"queue",
	} {
		set.put(1, &retrieval.IndexedChunk{ID: fmt.Sprintf("c%d", i), DocumentID: fmt.Sprintf("d%d", i%2), Text: text, Vector: []float32{0}})
	}
	tests := []struct {
		name   string
		text   string
		filter map[string]struct{}
		n      int
		want   []string
	}{
		// c0 holds the term three times in four terms, c4 once in one,
		// c1 once in two: 1.41, 1.34, 1.10 times the idf.
		{"term frequency and length", "queue", nil, 10, []string{"c0", "c4", "c1"}},
		// c1 holds both terms; "jobs" (2 of 5 chunks) is rarer than
		// "queue" (3 of 5), so c2 comes next.
		{"more terms match", "queue jobs", nil, 10, []string{"c1", "c2", "c0", "c4"}},
		{"stop words only", "the of and", nil, 10, []string{}},
		{"unknown", "zeppelin", nil, 10, []string{}},
		{"cut", "queue jobs", nil, 2, []string{"c1", "c2"}},
		{"filter", "queue jobs", map[string]struct{}{"d1": {}}, 10, []string{"c1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, lexicalIDs(set, tt.text, tt.filter, tt.n))
		})
	}
}

// TestLexicalFollowsWrites: after many puts, updates and removes (with the
// compactions they cause), every search ranks as on a set built from the
// surviving chunks alone.
func TestLexicalFollowsWrites(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"}
	text := func() string {
		var s string
		for range 1 + r.IntN(6) {
			s += words[r.IntN(len(words))] + " "
		}
		return s
	}
	set := newTestSet()
	alive := map[string]string{}
	for step := range 6000 {
		id := fmt.Sprintf("c%03d", r.IntN(1500))
		if _, ok := alive[id]; ok && r.IntN(3) == 0 {
			set.remove(1, set.slot[id])
			delete(alive, id)
		} else {
			alive[id] = text()
			set.put(1, &retrieval.IndexedChunk{ID: id, DocumentID: "d", Text: alive[id], Vector: []float32{0}})
		}
		if step%500 == 499 {
			set.shrink(1)
		}
	}
	fresh := newTestSet()
	ids := make([]string, 0, len(alive))
	for id := range alive {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		fresh.put(1, &retrieval.IndexedChunk{ID: id, DocumentID: "d", Text: alive[id], Vector: []float32{0}})
	}
	for _, q := range []string{"alpha", "bravo charlie", "juliet india hotel", "echo echo golf"} {
		require.Equal(t, lexicalIDs(fresh, q, nil, 50), lexicalIDs(set, q, nil, 50), q)
	}
	require.Equal(t, fresh.lex.totalLen, set.lex.totalLen)
	require.Less(t, len(set.lex.rowSlot), 2*len(alive), "compactions ran: rows were renumbered")
}
