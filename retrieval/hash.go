package retrieval

import (
	"context"
	"fmt"
	"math"
	"sync"
	"unicode/utf8"
)

// DefaultHashDim is the dimension NewHashEmbedder uses when given none.
const DefaultHashDim = 384

// Feature kinds of the hash embedder and their weights. Unigrams carry the
// meaning, bigrams reward shared phrases, character n-grams let inflected
// or misspelt forms and unknown compounds land near each other.
const (
	featUnigram = iota
	featBigram
	featCharGram
)

var featWeight = [3]float32{featUnigram: 1.0, featBigram: 0.6, featCharGram: 0.25}

// HashEmbedder is a dependency-free Embedder: it maps text to a vector by
// feature hashing, with no model weights, so that ragqueue answers questions
// out of the box and tests are deterministic. It is lexical at heart (texts
// are close when they share stems, phrases and word pieces), not semantic.
// It is safe for concurrent use.
type HashEmbedder struct {
	dim  int
	name string
	pool sync.Pool // of *hashScratch
}

var _ Embedder = (*HashEmbedder)(nil)

// NewHashEmbedder returns a HashEmbedder producing L2-normalised vectors of
// dim dimensions (DefaultHashDim when dim <= 0).
func NewHashEmbedder(dim int) *HashEmbedder {
	if dim <= 0 {
		dim = DefaultHashDim
	}
	return &HashEmbedder{dim: dim, name: fmt.Sprintf("hash-%d", dim)}
}

// Name identifies the embedding space: "hash-<dim>".
func (e *HashEmbedder) Name() string { return e.name }

// Dim is the length of every vector Embed returns.
func (e *HashEmbedder) Dim() int { return e.dim }

// Embed returns one vector per text, in order. The features of a text are
// its stemmed terms, bigrams of consecutive terms and the character 3- and
// 4-grams of its words (stop words excluded), each hashed to a signed
// coordinate and weighted by 1+ln(tf); the vector is L2-normalised. A text
// without features gets the zero vector. ctx is checked between texts.
func (e *HashEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	if len(texts) == 0 {
		return out, nil
	}
	backing := make([]float32, len(texts)*e.dim)
	sc, _ := e.pool.Get().(*hashScratch)
	if sc == nil {
		sc = &hashScratch{}
	}
	defer e.pool.Put(sc)
	for i, text := range texts {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("retrieval: hash embed: %w", err)
		}
		v := backing[i*e.dim : (i+1)*e.dim : (i+1)*e.dim]
		sc.embed(text, v)
		out[i] = v
	}
	return out, nil
}

// hashScratch is the reusable working memory of one Embed call.
type hashScratch struct {
	scan   wordScanner
	counts featureCounts
	padded []byte
	offs   []int
}

func (sc *hashScratch) embed(text string, v []float32) {
	sc.counts.reset()
	sc.scan = wordScanner{text: text, buf: sc.scan.buf}
	var prev uint64
	havePrev := false
	for {
		w, ok := sc.scan.next()
		if !ok {
			break
		}
		if isStopWord(w) {
			continue
		}
		sc.addCharGrams(w, sc.scan.ascii)
		h := hashBytes(stemBytes(w), featUnigram)
		sc.counts.add(withKind(h, featUnigram))
		if havePrev {
			sc.counts.add(withKind(mix64(prev*0x9e3779b97f4a7c15^h), featBigram))
		}
		prev, havePrev = h, true
	}
	if len(sc.counts.used) == 0 {
		return // v is already zero
	}
	dim := uint64(len(v))
	for _, slot := range sc.counts.used {
		ent := &sc.counts.table[slot]
		w := featWeight[ent.key&3]
		if ent.count > 1 {
			w *= sublinearTF(ent.count)
		}
		if ent.key&4 != 0 {
			w = -w
		}
		v[((ent.key>>32)*dim)>>32] += w
	}
	Normalize(v)
}

// addCharGrams counts the character 3- and 4-grams of "<w>", where < and >
// mark the word's start and end.
func (sc *hashScratch) addCharGrams(w []byte, ascii bool) {
	p := append(sc.padded[:0], '<')
	p = append(p, w...)
	p = append(p, '>')
	sc.padded = p
	if ascii {
		for n := 3; n <= 4; n++ {
			for i := 0; i+n <= len(p); i++ {
				sc.counts.add(withKind(hashBytes(p[i:i+n], featCharGram), featCharGram))
			}
		}
		return
	}
	offs := sc.offs[:0]
	for i := 0; i < len(p); {
		offs = append(offs, i)
		_, size := utf8.DecodeRune(p[i:])
		i += size
	}
	offs = append(offs, len(p))
	sc.offs = offs
	runes := len(offs) - 1
	for n := 3; n <= 4; n++ {
		for i := 0; i+n <= runes; i++ {
			sc.counts.add(withKind(hashBytes(p[offs[i]:offs[i+n]], featCharGram), featCharGram))
		}
	}
}

// tfTable holds 1+ln(tf) for small tf, the common case: a read-only table.
var tfTable = func() (t [64]float32) {
	for i := 1; i < len(t); i++ {
		t[i] = 1 + float32(math.Log(float64(i)))
	}
	return t
}()

// sublinearTF is the weight of a feature seen tf times: 1+ln(tf).
func sublinearTF(tf uint32) float32 {
	if tf < uint32(len(tfTable)) {
		return tfTable[tf]
	}
	return 1 + float32(math.Log(float64(tf)))
}

// hashBytes is 64-bit FNV-1a with a per-kind seed, finished with a mixer
// so that every output bit (bucket and sign) depends on every input byte.
func hashBytes(b []byte, kind uint64) uint64 {
	h := uint64(14695981039346656037) ^ (kind * 0x9e3779b97f4a7c15)
	for _, c := range b {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return mix64(h)
}

// mix64 is the MurmurHash3 64-bit finaliser.
func mix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// withKind stores the feature kind in the two low bits of a feature hash
// (bit 2 is the sign, bits 32..63 pick the coordinate), and keeps the key
// away from zero, which marks an empty slot.
func withKind(h uint64, kind uint64) uint64 {
	return h&^3 | kind | 1<<31
}

// featureCounts is an open-addressing hash table from feature key to term
// frequency, reused across texts: reset costs the number of features seen,
// not the table size.
type featureCounts struct {
	table []featureEntry
	used  []int32 // occupied slots, in insertion order; len is the feature count
}

type featureEntry struct {
	key   uint64
	count uint32
}

func (fc *featureCounts) reset() {
	for _, slot := range fc.used {
		fc.table[slot] = featureEntry{}
	}
	fc.used = fc.used[:0]
}

func (fc *featureCounts) add(key uint64) {
	if 2*(len(fc.used)+1) > len(fc.table) {
		fc.grow()
	}
	mask := uint64(len(fc.table) - 1)
	for i := (key >> 3) & mask; ; i = (i + 1) & mask {
		ent := &fc.table[i]
		if ent.key == key {
			ent.count++
			return
		}
		if ent.key == 0 {
			ent.key, ent.count = key, 1
			fc.used = append(fc.used, int32(i))
			return
		}
	}
}

func (fc *featureCounts) grow() {
	size := 2 * len(fc.table)
	if size < 1024 {
		size = 1024
	}
	old, oldUsed := fc.table, fc.used
	fc.table = make([]featureEntry, size)
	fc.used = make([]int32, 0, size/2)
	mask := uint64(size - 1)
	for _, slot := range oldUsed {
		ent := old[slot]
		i := (ent.key >> 3) & mask
		for fc.table[i].key != 0 {
			i = (i + 1) & mask
		}
		fc.table[i] = ent
		fc.used = append(fc.used, int32(i))
	}
}
