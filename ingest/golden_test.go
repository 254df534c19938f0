package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest"
)

// update rewrites the golden files: go test ./ingest/ -run TestGolden -update
var update = flag.Bool("update", false, "rewrite testdata/*.golden.json")

// goldenChunker is small enough to make the sample documents split inside
// sections, so that the goldens show the splitter at work.
var goldenChunker = ingest.Chunker{Size: 240, Overlap: 40}

// golden is what a testdata/*.golden.json file holds.
type golden struct {
	ContentType string         `json:"content_type"`
	Parsed      ingest.Parsed  `json:"parsed"`
	Pieces      []ingest.Piece `json:"pieces"`
}

func TestGolden(t *testing.T) {
	t.Parallel()
	inputs, err := filepath.Glob("testdata/*.*")
	require.NoError(t, err)
	n := 0
	for _, in := range inputs {
		if strings.HasSuffix(in, ".golden.json") || strings.HasSuffix(in, ".json") {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(in)
			require.NoError(t, err)
			ct, err := ingest.DetectContentType(filepath.Base(in), "", data[:min(len(data), 512)])
			require.NoError(t, err)

			p, err := ingest.Parse(context.Background(), ct, bytes.NewReader(data), 0)
			require.NoError(t, err)
			pieces, err := goldenChunker.Split(ct, p)
			require.NoError(t, err)
			checkPieces(t, goldenChunker.Size, pieces)

			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			require.NoError(t, enc.Encode(golden{ContentType: ct, Parsed: p, Pieces: pieces}))
			got := buf.Bytes()

			path := strings.TrimSuffix(in, filepath.Ext(in)) + ".golden.json"
			if *update {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run with -update to create it")
			require.Equal(t, string(want), string(got))
			require.NotContains(t, string(got), "LEAK", "boilerplate text leaked into the output")
		})
	}
	require.NotZero(t, n)
}

// checkPieces asserts what must hold of any split: pieces are non-empty,
// trimmed, valid UTF-8 and no longer than size runes.
func checkPieces(t *testing.T, size int, pieces []ingest.Piece) {
	t.Helper()
	for i, p := range pieces {
		require.NotEmpty(t, p.Text, "piece %d", i)
		require.Equal(t, strings.TrimSpace(p.Text), p.Text, "piece %d", i)
		require.True(t, utf8.ValidString(p.Text), "piece %d", i)
		require.LessOrEqual(t, utf8.RuneCountInString(p.Text), size, "piece %d", i)
	}
}
