package retrieval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxWordBytes caps one word: longer runs of letters (base64 blobs, hashes,
// URLs without separators) are cut at a rune boundary so that one token can
// never cost more than a bounded amount of hashing or index space.
const maxWordBytes = 64

// Tokenize returns the search terms of text, in order and with repeats:
// lowercase runs of letters and digits, English stop words removed, each
// term reduced by a light English stemmer. Every piece of ragqueue that
// matches words (the embedded index, the hash embedder, the extractive
// generator) uses it, so that they agree on what a term is.
func Tokenize(text string) []string {
	var terms []string
	s := wordScanner{text: text}
	for {
		w, ok := s.next()
		if !ok {
			return terms
		}
		if isStopWord(w) {
			continue
		}
		terms = append(terms, string(stemBytes(w)))
	}
}

// Words returns the lowercase words of text (runs of letters, digits and
// combining marks) without removing stop words or stemming. It is for
// callers that need the surface form, such as highlighting.
func Words(text string) []string {
	var words []string
	s := wordScanner{text: text}
	for {
		w, ok := s.next()
		if !ok {
			return words
		}
		words = append(words, string(w))
	}
}

// IsStopWord reports whether the lowercase word is on ragqueue's English stop
// word list, i.e. carries too little meaning to be a search term.
func IsStopWord(word string) bool {
	_, ok := stopWords[word]
	return ok
}

// wordScanner yields the lowercase words of a text one at a time into a
// reused buffer, so that hot paths (the hash embedder) tokenize without an
// allocation per word.
type wordScanner struct {
	text  string
	pos   int
	buf   []byte
	ascii bool // whether the last word returned is pure ASCII
}

// next returns the next lowercase word. The slice is only valid until the
// following call.
func (s *wordScanner) next() ([]byte, bool) {
	s.buf = s.buf[:0]
	s.ascii = true
	text := s.text
	i := s.pos
	// Skip separators.
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			if isASCIIWordByte(c) {
				break
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if isWordRune(r) {
			break
		}
		i += size
	}
	if i >= len(text) {
		s.pos = i
		return nil, false
	}
	// Collect the word.
	for i < len(text) {
		c := text[i]
		if c < utf8.RuneSelf {
			if !isASCIIWordByte(c) {
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			if len(s.buf) < maxWordBytes {
				s.buf = append(s.buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(text[i:])
		if !isWordRune(r) {
			break
		}
		i += size
		r = unicode.ToLower(r)
		if len(s.buf)+utf8.RuneLen(r) <= maxWordBytes {
			s.buf = utf8.AppendRune(s.buf, r)
			s.ascii = false
		} else {
			// Stop appending for good: keeps the cut at a rune boundary and
			// the word a prefix of the original.
			s.buf = s.buf[:len(s.buf):len(s.buf)]
			for i < len(text) {
				r, size = utf8.DecodeRuneInString(text[i:])
				if !isWordRune(r) {
					break
				}
				i += size
			}
			break
		}
	}
	s.pos = i
	return s.buf, true
}

func isASCIIWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isWordRune reports whether r belongs inside a word. utf8.RuneError (what
// invalid UTF-8 decodes to) is a symbol, so invalid bytes never reach a token.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func isStopWord(w []byte) bool {
	_, ok := stopWords[string(w)] // no allocation: the compiler special-cases map[string(b)]
	return ok
}

// stopWords is a read-only lookup table of common English function words,
// plus the fragments that splitting contractions on the apostrophe leaves.
var stopWords = func() map[string]struct{} {
	const list = `a about above after again against all also am an and any are as at
be because been before being below between both but by can could did do does doing down
during each either few for from further had has have having he her here hers herself him
himself his how i if in into is it its itself just me might more most must my myself neither
no nor not now of off on once only or other our ours ourselves out over own please same shall
she should so some such than that the their theirs them themselves then there these they this
those through to too under until up upon very was we were what when where whether which while
who whom whose why will with would yet you your yours yourself yourselves
s t d ll m re ve`
	m := make(map[string]struct{}, 160)
	for _, w := range strings.Fields(list) {
		m[w] = struct{}{}
	}
	return m
}()

// stemBytes applies the light stemmer to w in place and returns the stem,
// a prefix of w. Words that are not plain ASCII letters, and words of two
// letters or fewer, are returned unchanged.
//
// The rules aim at conflating the forms a question and a document most often
// disagree on (document/documents, index/indexing/indexed, cache/caches),
// not at linguistic accuracy: like Porter, it maps make/making/makes to "mak".
func stemBytes(w []byte) []byte {
	n := len(w)
	if n <= 2 {
		return w
	}
	for _, c := range w {
		if c < 'a' || c > 'z' {
			return w
		}
	}
	// Plurals and third person -s.
	switch {
	case hasSuffix(w, "sses"):
		w = w[:n-2]
	case hasSuffix(w, "ies"):
		if n > 4 {
			w = append(w[:n-3], 'y')
		} else {
			w = w[:n-1]
		}
	case hasSuffix(w, "ss"), hasSuffix(w, "us"), hasSuffix(w, "is"):
		// class, status, analysis: not plurals
	case hasSuffix(w, "es") && n > 4 && (w[n-3] == 's' || w[n-3] == 'x' || w[n-3] == 'z' ||
		(w[n-3] == 'h' && (w[n-4] == 'c' || w[n-4] == 's'))):
		w = w[:n-2] // boxes, matches, wishes
	case w[n-1] == 's':
		w = w[:n-1]
	}
	// -ing and -ed, only when a vowel is left in the stem (keeps thing, shed)
	// and not after e (keeps need, feed).
	n = len(w)
	stripped := false
	switch {
	case n >= 5 && hasSuffix(w, "ing") && hasVowel(w[:n-3]):
		w = w[:n-3]
		stripped = true
	case n >= 4 && hasSuffix(w, "ed") && w[n-3] != 'e' && hasVowel(w[:n-2]):
		w = w[:n-2]
		stripped = true
	}
	// The stripped stem of studied is "studi"; of studying "study".
	n = len(w)
	if stripped && n > 2 && w[n-1] == 'i' {
		w[n-1] = 'y'
	}
	// Final e: make/making, use/used/uses, cache/caches all meet.
	if n = len(w); n >= 3 && w[n-1] == 'e' {
		w = w[:n-1]
	}
	// Double consonant: running/run, embedded/embed (not l, s, z: fall, class).
	if n = len(w); n >= 3 && w[n-1] == w[n-2] && !isVowel(w[n-1]) &&
		w[n-1] != 'l' && w[n-1] != 's' && w[n-1] != 'z' {
		w = w[:n-1]
	}
	return w
}

func hasSuffix(w []byte, suffix string) bool {
	return len(w) >= len(suffix) && string(w[len(w)-len(suffix):]) == suffix
}

func isVowel(c byte) bool {
	return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y'
}

func hasVowel(w []byte) bool {
	for _, c := range w {
		if isVowel(c) {
			return true
		}
	}
	return false
}
