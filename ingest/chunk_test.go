package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"github.com/tmc/langchaingo/textsplitter"

	"github.com/ragqueue/ragqueue/ingest"
)

// prose returns about n bytes of deterministic English-like text in
// paragraphs of a few sentences.
func prose(n int) string {
	words := strings.Fields("the queue worker parses every uploaded document into sections and " +
		"chunks them before embedding so that answers can cite the exact paragraph they came from " +
		"while retries overwrite chunks instead of duplicating them across the index")
	rng := rand.New(rand.NewPCG(1, 2))
	var b strings.Builder
	for b.Len() < n {
		for s := 0; s < 2+rng.IntN(6); s++ {
			for w := 0; w < 6+rng.IntN(20); w++ {
				if w > 0 {
					b.WriteByte(' ')
				}
				b.WriteString(words[rng.IntN(len(words))])
			}
			b.WriteString(". ")
		}
		b.WriteString("\n\n")
	}
	return b.String()
}

func TestSplitDefaults(t *testing.T) {
	t.Parallel()
	p := ingest.Parsed{Sections: []ingest.Section{{Heading: "A > B", Page: 3, Text: prose(20_000)}}}
	pieces, err := ingest.Chunker{}.Split(ingest.TypeText, p)
	require.NoError(t, err)
	checkPieces(t, ingest.DefaultChunkSize, pieces)
	require.Greater(t, len(pieces), 20)
	total := 0
	for _, pc := range pieces {
		require.Equal(t, 3, pc.Page)
		require.Equal(t, "A > B", pc.Section)
		total += utf8.RuneCountInString(pc.Text)
	}
	// Pieces are mostly full: the splitter merges paragraphs up to the size.
	require.Greater(t, total/len(pieces), ingest.DefaultChunkSize/2)
	// Neighbours overlap.
	overlapping := 0
	for i := 1; i < len(pieces); i++ {
		prev := pieces[i-1].Text
		if strings.Contains(prev, pieces[i].Text[:min(len(pieces[i].Text), 40)]) {
			overlapping++
		}
	}
	require.NotZero(t, overlapping)
}

func TestSplitSizes(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 2500)
	tests := []struct {
		name    string
		chunker ingest.Chunker
		ct      string
		text    string
	}{
		{"prose", ingest.Chunker{Size: 300, Overlap: 50}, ingest.TypeText, prose(10_000)},
		{"prose markdown", ingest.Chunker{Size: 300, Overlap: 50}, ingest.TypeMarkdown, prose(10_000)},
		{"no overlap", ingest.Chunker{Size: 200, Overlap: -1}, ingest.TypeHTML, prose(5_000)},
		{"one long token", ingest.Chunker{Size: 100, Overlap: 10}, ingest.TypeText, "see " + long + " end"},
		{"multibyte runes", ingest.Chunker{Size: 50, Overlap: 5}, ingest.TypeText, strings.Repeat("日本語のテキスト。", 200)},
		{"emoji words", ingest.Chunker{Size: 40, Overlap: 8}, ingest.TypeText, strings.Repeat("😀😀😀 ", 300)},
		{"size one", ingest.Chunker{Size: 1, Overlap: -1}, ingest.TypeText, "ab c\n\nd"},
		{"code", ingest.Chunker{Size: 120, Overlap: 20}, ingest.TypeMarkdown, strings.Repeat("```go\nfunc main() {\n\tfmt.Println(\"hi\")\n}\n```\n\n---\n\ntext. ", 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := ingest.Parsed{Sections: []ingest.Section{{Text: tt.text}}}
			pieces, err := tt.chunker.Split(tt.ct, p)
			require.NoError(t, err)
			require.NotEmpty(t, pieces)
			checkPieces(t, tt.chunker.Size, pieces)
		})
	}
}

func TestSplitSections(t *testing.T) {
	t.Parallel()
	p := ingest.Parsed{Sections: []ingest.Section{
		{Heading: "One", Text: "  first section  "},
		{Heading: "Blank", Text: " \n\t\n "},
		{Heading: "Two", Page: 2, Text: "second section"},
	}}
	pieces, err := ingest.Chunker{}.Split(ingest.TypeMarkdown, p)
	require.NoError(t, err)
	require.Equal(t, []ingest.Piece{
		{Text: "first section", Section: "One"},
		{Text: "second section", Page: 2, Section: "Two"},
	}, pieces)

	pieces, err = ingest.Chunker{}.Split(ingest.TypeText, ingest.Parsed{})
	require.NoError(t, err)
	require.Empty(t, pieces)
}

func TestSplitKeepsSentenceEnds(t *testing.T) {
	t.Parallel()
	text := "First sentence is here. Second sentence is here. Third sentence is here."
	pieces, err := ingest.Chunker{Size: 30, Overlap: -1}.Split(ingest.TypeText, ingest.Parsed{Sections: []ingest.Section{{Text: text}}})
	require.NoError(t, err)
	require.Equal(t, []ingest.Piece{
		{Text: "First sentence is here."},
		{Text: "Second sentence is here."},
		{Text: "Third sentence is here."},
	}, pieces)
}

// TestSplitNoOversizeNoRepeats pins the input on which langchaingo v0.1.14
// returned ["aa" "aa bbbbbbbb" "ccc" "dddddddd"]: a piece over the size and
// a piece contained in the next one.
func TestSplitNoOversizeNoRepeats(t *testing.T) {
	t.Parallel()
	p := ingest.Parsed{Sections: []ingest.Section{{Text: "aa bbbbbbbb ccc dddddddd"}}}
	pieces, err := ingest.Chunker{Size: 10, Overlap: 3}.Split(ingest.TypeText, p)
	require.NoError(t, err)
	require.Equal(t, []ingest.Piece{{Text: "aa"}, {Text: "bbbbbbbb"}, {Text: "ccc"}, {Text: "dddddddd"}}, pieces)
}

func TestChunkerConfig(t *testing.T) {
	t.Parallel()
	p := ingest.Parsed{Sections: []ingest.Section{{Text: prose(3000)}}}
	for _, c := range []ingest.Chunker{{Size: -1}, {Size: 100, Overlap: 100}, {Size: 100, Overlap: 200}} {
		_, err := c.Split(ingest.TypeText, p)
		require.ErrorContains(t, err, "ingest: chunker:", "%+v", c)
	}
	// A small size with a zero overlap gets a proportionate default overlap.
	pieces, err := ingest.Chunker{Size: 100}.Split(ingest.TypeText, p)
	require.NoError(t, err)
	checkPieces(t, 100, pieces)
}

func TestSplitContextCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p := ingest.Parsed{Sections: []ingest.Section{{Text: "a"}, {Text: "b"}}}
	_, err := ingest.Chunker{}.SplitContext(ctx, ingest.TypeText, p)
	require.ErrorIs(t, err, context.Canceled)
}

func TestChunkID(t *testing.T) {
	t.Parallel()
	id := ingest.ChunkID("acme", "doc-1", 1, 0)
	u, err := uuid.Parse(id)
	require.NoError(t, err)
	require.Equal(t, uuid.Version(5), u.Version())
	require.Equal(t, uuid.RFC4122, u.Variant())
	require.Equal(t, id, ingest.ChunkID("acme", "doc-1", 1, 0), "deterministic")
	// Pinned: changing the namespace or the encoding would orphan every stored chunk.
	require.Equal(t, "d553d8cf-b8e1-5a9f-a606-b06ad4c1b65c", id)

	seen := map[string]string{}
	add := func(tenant, doc string, version, index int) {
		id := ingest.ChunkID(tenant, doc, version, index)
		key := fmt.Sprintf("%q %q %d %d", tenant, doc, version, index)
		prev, dup := seen[id]
		require.False(t, dup, "%s and %s share ID %s", prev, key, id)
		seen[id] = key
	}
	add("acme", "doc-1", 1, 0)
	add("acme2", "doc-1", 1, 0) // tenant
	add("acme", "doc-2", 1, 0)  // document
	add("acme", "doc-1", 2, 0)  // version
	add("acme", "doc-1", 1, 1)  // index
	// Field boundaries cannot be shifted to collide.
	add("ab", "c", 1, 0)
	add("a", "bc", 1, 0)
	add("a", "b", 11, 0)
	add("a", "b", 1, 10)
	add("", "", 0, 0)
	add("a", "b", -1, 0)
	for i := 2; i < 1000; i++ {
		add("acme", "doc-1", 1, i)
	}
}

// benchSplit measures splitting text as one plain-text section.
func benchSplit(b *testing.B, text string) {
	p := ingest.Parsed{Sections: []ingest.Section{{Text: text}}}
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := (ingest.Chunker{}).Split(ingest.TypeText, p); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSplit(b *testing.B) {
	benchSplit(b, prose(100_000))
}

// BenchmarkSplitNoSpaces is the splitter's worst case: one 100 KB token,
// split rune by rune.
func BenchmarkSplitNoSpaces(b *testing.B) {
	benchSplit(b, strings.Repeat("abcdefghij", 10_000))
}

// BenchmarkSplitLongLines is prose without paragraph breaks: sentences only.
func BenchmarkSplitLongLines(b *testing.B) {
	benchSplit(b, strings.ReplaceAll(prose(100_000), "\n\n", " "))
}

// BenchmarkSplitLangchaingo runs langchaingo's recursive splitter, which
// this package used first, on the inputs of BenchmarkSplit and
// BenchmarkSplitNoSpaces, with the same sizes in runes.
func BenchmarkSplitLangchaingo(b *testing.B) {
	inputs := []struct{ name, text string }{
		{"prose", prose(100_000)},
		{"no-spaces", strings.Repeat("abcdefghij", 10_000)},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			s := textsplitter.NewRecursiveCharacter(
				textsplitter.WithChunkSize(ingest.DefaultChunkSize),
				textsplitter.WithChunkOverlap(ingest.DefaultChunkOverlap),
				textsplitter.WithSeparators([]string{"\n\n", "\n", ". ", " ", ""}),
				textsplitter.WithLenFunc(utf8.RuneCountInString),
			)
			b.SetBytes(int64(len(in.text)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.SplitText(in.text); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse parses and splits about 100 KB of each format.
func BenchmarkParse(b *testing.B) {
	for _, f := range []struct{ file, ct string }{
		{"notes.txt", ingest.TypeText},
		{"readme.md", ingest.TypeMarkdown},
		{"guide.html", ingest.TypeHTML},
	} {
		b.Run(f.ct, func(b *testing.B) {
			one, err := os.ReadFile(filepath.Join("testdata", f.file))
			require.NoError(b, err)
			data := bytes.Repeat(one, 100_000/len(one)+1)
			if f.ct == ingest.TypeHTML { // one document, not concatenated ones
				body := one[bytes.Index(one, []byte("<body>")):]
				data = append(bytes.Repeat(body, 100_000/len(body)), one...)
			}
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := ingest.Parse(context.Background(), f.ct, bytes.NewReader(data), 0)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := (ingest.Chunker{}).Split(f.ct, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
