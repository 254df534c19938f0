package retrieval

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestTokenize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"empty", "", nil},
		{"only stop words", "What is the of and", nil},
		{"lowercase and punctuation", "Hello, World! Hello?", []string{"hello", "world", "hello"}},
		{"plurals", "documents queries classes boxes matches status analysis", []string{"document", "query", "class", "box", "match", "status", "analysis"}},
		{"ing and ed", "indexing indexed index running embedded embedding", []string{"index", "index", "index", "run", "embed", "embed"}},
		{"final e", "use used uses using cache caches", []string{"us", "us", "us", "us", "cach", "cach"}},
		{"keeps short stems", "thing shed need king string", []string{"thing", "shed", "need", "king", "string"}},
		{"studies", "study studies studied studying", []string{"study", "study", "study", "study"}},
		{"digits", "HTTP 404 errors in v2", []string{"http", "404", "error", "v2"}},
		{"contractions", "it's the user's don't", []string{"user", "don"}},
		{"unicode", "Größe Éclair naïve ΑΘΗΝΑ", []string{"größe", "éclair", "naïve", "αθηνα"}},
		{"cjk", "東京は日本の首都です", []string{"東京は日本の首都です"}},
		{"separators", "a-b_c/d.e@f", []string{"b", "c", "e", "f"}},
		{"invalid utf8", "ab\xffcd", []string{"ab", "cd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, Tokenize(tt.in))
		})
	}
}

func TestTokenizeLongWordIsCut(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 100)
	got := Tokenize(long + " next")
	require.Len(t, got, 2)
	require.LessOrEqual(t, len(got[0]), maxWordBytes)
	require.True(t, utf8.ValidString(got[0]))
	require.Equal(t, "next", got[1])
}

func TestWordsAndStopWords(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"what", "is", "indexing"}, Words("What is INDEXING?"))
	require.True(t, IsStopWord("the"))
	require.False(t, IsStopWord("redis"))
	require.Equal(t, []string{"index"}, Tokenize("indexing"), "stemmed")
	require.Equal(t, []string{"größe"}, Tokenize("größe"), "not plain ASCII letters: not stemmed")
}

func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "Hello, World!", "ÀÉÎ ıİ ß ǅ", "ab\xffcd", "indexing queries", strings.Repeat("x", 200), "ΣΑΣ", "\u0301a\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range Tokenize(s) {
			if tok == "" {
				t.Fatalf("empty token from %q", s)
			}
			if !utf8.ValidString(tok) {
				t.Fatalf("invalid UTF-8 token %q from %q", tok, s)
			}
			if strings.ToLower(tok) != tok {
				t.Fatalf("token %q is not lowercase (from %q)", tok, s)
			}
			if len(tok) > maxWordBytes {
				t.Fatalf("token %q longer than %d bytes", tok, maxWordBytes)
			}
		}
		for _, w := range Words(s) {
			if !utf8.ValidString(w) || strings.ToLower(w) != w {
				t.Fatalf("bad word %q from %q", w, s)
			}
		}
	})
}
