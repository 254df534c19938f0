package ingest

// The splitter's invariants are about offsets, which the exported API does
// not show, so this one test file is internal.

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// checkSpans asserts the splitter's contract on text: chunks are trimmed,
// non-empty and at most size runes; no chunk contains another; chunks do
// not overlap when overlap is 0; and only whitespace falls between them.
func checkSpans(t *testing.T, text string, size, overlap int, spans []span) {
	t.Helper()
	covered := 0
	for i, sp := range spans {
		chunk := text[sp.start:sp.end]
		require.NotEmpty(t, chunk, "chunk %d", i)
		require.Equal(t, strings.TrimSpace(chunk), chunk, "chunk %d", i)
		require.LessOrEqual(t, utf8.RuneCountInString(chunk), size, "chunk %d", i)
		if i > 0 {
			prev := spans[i-1]
			require.Greater(t, sp.start, prev.start, "chunk %d starts before its predecessor", i)
			require.Greater(t, sp.end, prev.end, "chunk %d ends inside its predecessor", i)
			if overlap == 0 {
				require.GreaterOrEqual(t, sp.start, prev.end, "chunk %d overlaps without an overlap", i)
			}
		}
		if sp.start > covered {
			require.Empty(t, strings.TrimFunc(text[covered:sp.start], unicode.IsSpace), "text lost before chunk %d", i)
		}
		covered = max(covered, sp.end)
	}
	require.Empty(t, strings.TrimFunc(text[covered:], unicode.IsSpace), "text lost at the end")
}

func TestSplitterSpans(t *testing.T) {
	t.Parallel()
	texts := []string{
		"",
		"   ",
		"short",
		"One. Two? Three! Four; five, six: seven\n\neight\nnine\tten",
		strings.Repeat("word ", 500),
		strings.Repeat("x", 1000),
		strings.Repeat("日本語の文です。", 100),
		strings.Repeat("para one. sentence two.\n\n", 50) + strings.Repeat("z", 300) + " tail",
		"```go\ncode\n```\ntext\n---\nmore text " + strings.Repeat("a b ", 100),
	}
	for _, text := range texts {
		for _, cfg := range [][2]int{{10, 0}, {10, 3}, {50, 10}, {1, 0}, {2, 1}, {100, 99}} {
			for _, levels := range [][]level{textLevels(), markdownLevels()} {
				s := splitter{text: text, size: cfg[0], overlap: cfg[1], levels: levels}
				checkSpans(t, text, cfg[0], cfg[1], s.spans())
			}
		}
	}
}

func FuzzSplitter(f *testing.F) {
	f.Add("One. Two? Three!\n\nFour", 8, 2, false)
	f.Add(strings.Repeat("ab ", 50), 5, 4, true)
	f.Add("```\nx\n```\n---\n", 3, 1, true)
	f.Add("\xff\xfe a", 2, 0, false)
	f.Fuzz(func(t *testing.T, text string, size, overlap int, markdown bool) {
		size = 1 + abs(size)%200
		overlap = abs(overlap) % size
		levels := textLevels()
		if markdown {
			levels = markdownLevels()
		}
		s := splitter{text: text, size: size, overlap: overlap, levels: levels}
		checkSpans(t, text, size, overlap, s.spans())
	})
}

// abs is |n|, with math.MinInt mapped to 0.
func abs(n int) int {
	if n < 0 {
		n = -n
	}
	return max(n, 0)
}
