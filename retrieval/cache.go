package retrieval

import (
	"math"
	"strings"
	"unicode"
)

// DefaultCacheSimilarity is the cosine similarity from which a cached
// question answers a new one (RAGQ_CACHE_SIMILARITY).
const DefaultCacheSimilarity = 0.95

// NormalizeQuestion is the exact-match key of the answer cache: the question
// lowercased, punctuation and symbols dropped, whitespace collapsed, so that
// "What is the X100?" and "what is the  x100" share one entry.
// Punctuation is replaced by a space, not removed, so that "e-mail" and
// "e mail" match but "x100" and "x 100" do not collide with words.
func NormalizeQuestion(q string) string {
	var b strings.Builder
	b.Grow(len(q))
	space := false
	for _, r := range q {
		switch {
		case unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// Cosine returns the cosine similarity of a and b: 0 when either is zero
// or their lengths differ (vectors of different spaces never match).
func Cosine(a, b []float32) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// NearestQuestion returns the index in candidates of the vector most
// similar to q and its similarity, when that is at least threshold; ok is
// false when none is. Ties go to the earlier candidate (callers list the
// newest first).
func NearestQuestion(q []float32, candidates [][]float32, threshold float64) (index int, similarity float64, ok bool) {
	index = -1
	for i, c := range candidates {
		if s := Cosine(q, c); s >= threshold && (index < 0 || s > similarity) {
			index, similarity = i, s
		}
	}
	return index, similarity, index >= 0
}
