package pdf_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/pdf"
)

// update rewrites the fuzz seeds: go test ./ingest/pdf/ -run TestPDFFuzzSeeds -update
var update = flag.Bool("update", false, "rewrite testdata/fuzz/FuzzParsePDF")

// fuzzLimits keep each fuzz run small: one child, little memory and time.
func fuzzLimits() pdf.Limits {
	return pdf.Limits{
		Timeout: 20 * time.Second, MemoryBytes: 128 << 20, CPUSeconds: 10,
		MaxTextBytes: 4 << 20, MaxPages: 500, Parallelism: 1,
	}
}

// FuzzParsePDF feeds arbitrary bytes through the real child process. The
// parent must never hang or crash, and every error must be an input error
// (a *ragqueue.Error with EINVALID, EUNSUPPORTED or ETOOLARGE).
//
// The seed corpus is testdata/fuzz/FuzzParsePDF (written from the
// generated PDFs by go test ./ingest/pdf/ -run TestPDFFuzzSeeds -update) and
// the PDFs in testdata.
//
//	go test ./ingest/pdf/ -run '^$' -fuzz FuzzParsePDF -fuzztime 60s
func FuzzParsePDF(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.pdf"))
	require.NoError(f, err)
	for _, name := range files {
		data, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(data)
	}
	b := setupPDF(f, fuzzLimits())
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.pdf")
		require.NoError(t, os.WriteFile(path, data, 0o600))
		fh, err := os.Open(path)
		require.NoError(t, err)
		defer fh.Close()
		p, err := b.parser.ParsePDF(context.Background(), fh)
		if err != nil {
			var e *ragqueue.Error
			require.True(t, errors.As(err, &e), "not an input error: %v", err)
			require.Contains(t, []string{ragqueue.EINVALID, ragqueue.EUNSUPPORTED, ragqueue.ETOOLARGE}, e.Code, "%v", err)
			require.NotEmpty(t, e.Message)
			return
		}
		require.NotEmpty(t, p.Sections)
		require.True(t, utf8.ValidString(p.Title))
		for i, s := range p.Sections {
			require.Equal(t, i+1, s.Page)
			require.True(t, utf8.ValidString(s.Text), "page %d", s.Page)
			require.NotContains(t, s.Text, "\x00", "page %d", s.Page)
		}
	})
}

// fuzzSeeds are the generated PDFs the fuzz corpus starts from: the good
// ones and every small hostile one (the bombs and the slow file are left
// out: each run of them takes a second).
func fuzzSeeds() map[string][]byte {
	numbered, _ := numberedPDF(20)
	good := goodPDF()
	return map[string][]byte{
		"good":           good,
		"numbered":       numbered,
		"cyclic":         cyclicPDF(false),
		"cyclic-child":   cyclicPDF(true),
		"huge-count":     hugeCountPDF(),
		"recursion":      recursionPDF(),
		"prev-loop":      prevLoopPDF(),
		"encrypted":      encryptedTrailerPDF(),
		"broken-offsets": brokenOffsetsPDF(),
		"truncated":      good[:len(good)/2],
		"garbage":        []byte("%PDF-1.4\n" + strings.Repeat("garbage ", 40) + "\nstartxref\n9\n%%EOF\n"),
	}
}

// TestPDFFuzzSeeds checks that testdata/fuzz/FuzzParsePDF holds the
// generated PDFs; -update rewrites them. (Only presence is checked: the
// bytes change with compress/flate's output across Go releases.)
func TestPDFFuzzSeeds(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "fuzz", "FuzzParsePDF")
	for name, data := range fuzzSeeds() {
		path := filepath.Join(dir, "seed-"+name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%s)\n", strconv.Quote(string(data)))
		if *update {
			require.NoError(t, os.MkdirAll(dir, 0o755))
			require.NoError(t, os.WriteFile(path, []byte(want), 0o644))
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./ingest/pdf/ -run TestPDFFuzzSeeds -update")
		require.True(t, strings.HasPrefix(string(got), "go test fuzz v1\n[]byte("), path)
	}
}
