package ingest_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
)

// addSeeds adds the testdata inputs matching pattern, and extra, to f's corpus.
func addSeeds(f *testing.F, pattern string, extra ...string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	require.NoError(f, err)
	for _, name := range files {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	for _, s := range extra {
		f.Add([]byte(s))
	}
}

// fuzzChunker is small so that fuzz inputs get split.
var fuzzChunker = ingest.Chunker{Size: 64, Overlap: 8}

// checkParse asserts what must hold of any input: Parse either fails with
// an input error or returns valid UTF-8 sections that split into valid,
// non-empty pieces no longer than the chunk size.
func checkParse(t *testing.T, contentType string, data []byte) {
	p, err := ingest.Parse(context.Background(), contentType, bytes.NewReader(data), 0)
	if err != nil {
		code := ragqueue.ErrorCode(err)
		require.Contains(t, []string{ragqueue.EINVALID, ragqueue.EUNSUPPORTED}, code, "%v", err)
		return
	}
	require.True(t, utf8.ValidString(p.Title))
	require.NotContains(t, p.Title, "\n")
	require.LessOrEqual(t, utf8.RuneCountInString(p.Title), 120)
	require.NotEmpty(t, p.Sections)
	for _, s := range p.Sections {
		require.True(t, utf8.ValidString(s.Text), "%q", s.Text)
		require.True(t, utf8.ValidString(s.Heading), "%q", s.Heading)
		require.NotEmpty(t, strings.TrimSpace(s.Text))
	}
	pieces, err := fuzzChunker.Split(contentType, p)
	require.NoError(t, err)
	require.NotEmpty(t, pieces)
	checkPieces(t, fuzzChunker.Size, pieces)
}

func FuzzParseHTML(f *testing.F) {
	addSeeds(f, "*.htm*",
		"<h1>a<h2>b<h3>c</h1>d",
		"<pre>\n\n x\n</pre><p>y",
		"<article><header><h1>T</h1></header><nav>n</nav>x</article>",
		"<script/>x</script><svg/><title>t",
		"<table><td>a<td>b<tr><th>c",
		"<meta charset=shift_jis><p>\x93\xfa",
		"\xff\xfe<\x00p\x00>\x00",
		"<plaintext><p>x",
		"<li><li><li>",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, ingest.TypeHTML, data)
	})
}

func FuzzParseMarkdown(f *testing.F) {
	addSeeds(f, "*.md",
		"---\ntitle: x\n---\n# a\n## b\n",
		"a\n===\nb\n---\n",
		"```\n# x\n",
		"<!-- x\n# y\n-->\n## z\n",
		"[![a](b)](c) [d][e] `f` **g** <h i=j>\n",
		"# [[[[[[[[[[\n## ]]]](((((\n",
		"\xef\xbb\xbf\r\n# t\r\n",
	)
	f.Fuzz(func(t *testing.T, data []byte) {
		checkParse(t, ingest.TypeMarkdown, data)
	})
}

func FuzzDetectContentType(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	require.NoError(f, err)
	for _, name := range files {
		if strings.HasSuffix(name, ".json") {
			continue
		}
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(filepath.Base(name), "", data[:min(len(data), 512)])
	}
	f.Add("x.pdf", "application/pdf", []byte("%PDF-1.7"))
	f.Add("x.txt", "text/plain; charset=utf-8", []byte("\x89PNG\r\n\x1a\n"))
	f.Add(`..\..\x`, "text/markdown", []byte("# x"))
	f.Add("", "", []byte{})
	f.Fuzz(func(t *testing.T, filename, declared string, head []byte) {
		title := ingest.CleanTitle(filename)
		require.True(t, utf8.ValidString(title))
		require.NotContains(t, title, "/")
		require.NotContains(t, title, `\`)
		require.NotContains(t, title, "\x00")
		require.Equal(t, strings.TrimSpace(title), title)
		require.LessOrEqual(t, utf8.RuneCountInString(title), 200)

		ct, err := ingest.DetectContentType(filename, declared, head)
		if err != nil {
			require.Empty(t, ct)
			require.Equal(t, ragqueue.EUNSUPPORTED, ragqueue.ErrorCode(err))
			require.True(t, utf8.ValidString(ragqueue.ErrorMessage(err)))
			return
		}
		require.Contains(t, []string{ingest.TypeText, ingest.TypeMarkdown, ingest.TypeHTML, ingest.TypePDF}, ct)
	})
}
