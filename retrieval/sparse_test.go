package retrieval

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// bm25TF is the document weight written out independently of the encoder.
func bm25TF(tf, docLen float64) float32 {
	return float32(tf * 2.2 / (tf + 1.2*(0.25+0.75*docLen/100)))
}

func TestSparseEncodeDocument(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		text string
		want map[string]float32 // term → weight
	}{
		{"empty", "", nil},
		{"only stop words", "the and of it was", nil},
		{"only symbols", `"*" -- ();`, nil},
		{"one term", "Glaciers", map[string]float32{"glacier": bm25TF(1, 1)}},
		{"repeats stem together", "glaciers Glacier GLACIERS", map[string]float32{"glacier": bm25TF(3, 3)}},
		{"two terms", "the pump and the valve pump", map[string]float32{"pump": bm25TF(2, 3), "valv": bm25TF(1, 3)}},
		{"unicode", "Größe café", map[string]float32{"größe": bm25TF(1, 2), "café": bm25TF(1, 2)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := SparseEncoder{}.EncodeDocument(tt.text)
			got := make(map[uint32]float32, v.Len())
			for i, id := range v.Indices {
				got[id] = v.Values[i]
			}
			want := make(map[uint32]float32, len(tt.want))
			for term, w := range tt.want {
				want[TermID(term)] = w
			}
			require.Len(t, v.Values, v.Len())
			require.InDeltaMapValues(t, want, got, 1e-6)
			require.Len(t, got, len(want))
		})
	}
}

func TestSparseEncodeQuery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		text  string
		terms []string
	}{
		{"empty", "", nil},
		{"stop words", "what is the", nil},
		{"repeats count once", "pump pumps PUMP valve", []string{"pump", "valv"}},
		{"hostile", `NEAR(a b) "drop table" *`, []string{"near", "b", "drop", "tabl"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v := SparseEncoder{}.EncodeQuery(tt.text)
			var want []uint32
			for _, term := range tt.terms {
				want = append(want, TermID(term))
			}
			require.ElementsMatch(t, want, v.Indices)
			for _, w := range v.Values {
				require.Equal(t, float32(1), w)
			}
			require.Len(t, v.Values, len(v.Indices))
		})
	}
}

func TestSparseLengthNormalisation(t *testing.T) {
	t.Parallel()
	enc := SparseEncoder{}
	short := enc.EncodeDocument("zyxquorp appears here")
	long := enc.EncodeDocument("zyxquorp appears here " + strings.Repeat("filler words padding ", 100))
	id := TermID("zyxquorp")
	weight := func(v SparseVector) float32 {
		for i, x := range v.Indices {
			if x == id {
				return v.Values[i]
			}
		}
		t.Fatalf("term missing from %v", v.Indices)
		return 0
	}
	require.Greater(t, weight(short), weight(long), "a term counts more in a short chunk")
	// Saturation: however often a term repeats, its weight stays below k1+1.
	many := enc.EncodeDocument(strings.Repeat("zyxquorp ", 10000))
	require.Less(t, weight(many), float32(SparseK1+1))
	require.Greater(t, weight(many), weight(short))
}

func TestTermIDIsFNV1a(t *testing.T) {
	t.Parallel()
	// Published FNV-1a 32-bit test vectors: stored vectors depend on these
	// IDs never changing.
	require.Equal(t, uint32(0x811c9dc5), TermID(""))
	require.Equal(t, uint32(0xe40c292c), TermID("a"))
	require.Equal(t, uint32(0xbf9cf968), TermID("foobar"))
}

func FuzzSparseEncoder(f *testing.F) {
	for _, s := range []string{"", "the pump valve", "Größe café 🚀", "\x00\xff\xfe", `NEAR(a b) "x"`, strings.Repeat("word ", 50)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		enc := SparseEncoder{}
		doc := enc.EncodeDocument(text)
		query := enc.EncodeQuery(text)
		for _, v := range []SparseVector{doc, query} {
			require.Len(t, v.Values, len(v.Indices))
			for i := 1; i < len(v.Indices); i++ {
				require.Less(t, v.Indices[i-1], v.Indices[i], "indices ascending without repeats")
			}
		}
		require.Equal(t, doc.Indices, query.Indices, "query and document agree on the terms of a text")
		for _, w := range doc.Values {
			require.False(t, math.IsNaN(float64(w)))
			require.Greater(t, w, float32(0))
			require.Less(t, w, float32(SparseK1+1))
		}
		for _, w := range query.Values {
			require.Equal(t, float32(1), w)
		}
	})
}
