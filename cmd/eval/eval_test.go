package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

func TestMetrics(t *testing.T) {
	t.Parallel()
	rel := map[string]int{"a": 2, "b": 1, "x": 0}
	tests := []struct {
		name               string
		ranked             []string
		ndcg, recall, rank float64
	}{
		{"ideal", []string{"a", "b", "c"}, 1, 1, 1},
		{"nothing", []string{"c", "d"}, 0, 0, 0},
		{"empty", nil, 0, 0, 0},
		{"swapped", []string{"b", "a"}, (1 + 2/1.584962500721156) / (2 + 1/1.584962500721156), 1, 1},
		{"second only", []string{"c", "b"}, (1 / 1.584962500721156) / (2 + 1/1.584962500721156), 0.5, 0.5},
		{"judged irrelevant", []string{"x", "a"}, (2 / 1.584962500721156) / (2 + 1/1.584962500721156), 0.5, 0.5},
		{"beyond the cutoff", []string{"c1", "c2", "c3", "c4", "c5", "c6", "c7", "c8", "c9", "c10", "a"}, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.InDelta(t, tt.ndcg, ndcg(tt.ranked, rel), 1e-9)
			require.InDelta(t, tt.recall, recall(tt.ranked, rel), 1e-9)
			require.InDelta(t, tt.rank, mrr(tt.ranked, rel), 1e-9)
		})
	}
}

func TestRankDocuments(t *testing.T) {
	t.Parallel()
	docs := map[string][]string{"d1": {"p1"}, "d2": {"p2", "p3"}}
	require.Equal(t, []string{"p2", "p3", "p1"}, rankDocuments([]string{"d2", "d1", "d2", "unknown"}, docs))
}

func TestResultPercentiles(t *testing.T) {
	t.Parallel()
	r := result{Mode: "x"}
	for i := range 20 {
		r.add([]string{"a"}, map[string]int{"a": 1}, time.Duration(20-i)*time.Millisecond)
	}
	r.finish()
	require.Equal(t, 10*time.Millisecond, r.P50)
	require.Equal(t, 19*time.Millisecond, r.P95)
	require.Equal(t, 1.0, r.NDCG)
}

// TestTableGolden fixes the report's format with deterministic rows.
func TestTableGolden(t *testing.T) {
	t.Parallel()
	rows := []result{
		{Mode: modeBM25, NDCG: 0.5, Recall: 0.75, MRR: 0.25, P50: 1500 * time.Microsecond, P95: 12 * time.Millisecond},
		{Mode: modeDense, NDCG: 0.123456, Recall: 1, MRR: 0, P50: 250 * time.Microsecond, P95: 999 * time.Microsecond},
		{Mode: modeHybrid, NDCG: 1, Recall: 0.999, MRR: 0.6666, P50: 2 * time.Millisecond, P95: 123456 * time.Microsecond},
	}
	var buf bytes.Buffer
	require.NoError(t, writeTable(&buf, "set: 3 passages, 2 judged queries; embedded mode, embedder hash-384", rows))
	golden := filepath.Join("testdata", "table.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), buf.String())
}

func TestLoadDatasetErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := loadDataset(dir)
	require.ErrorContains(t, err, "corpus.jsonl")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "qrels"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "corpus.jsonl"), []byte(`{"_id":"d","text":"x"}`+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "queries.jsonl"), []byte(`{"_id":"q","text":"x"}`+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qrels", "test.tsv"), []byte("query-id\tcorpus-id\tscore\nq\td\tnot-a-number\n"), 0o644))
	_, err = loadDataset(dir)
	require.ErrorContains(t, err, "not a whole number")
}

// TestEvalShippedSet runs the command, embedded mode, on the shipped data
// set: every metric is a share, every row is there, and hybrid search is at
// least as good as lexical search alone (the goal for the default
// hash embedder).
func TestEvalShippedSet(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	env := map[string]string{"RAGQ_WORKER_CONCURRENCY": "4"}
	var out, errOut bytes.Buffer
	err := run(ctx, []string{"-data", filepath.Join("testdata", "beir-gospec")}, func(k string) string { return env[k] }, &out, &errOut)
	require.NoError(t, err, errOut.String())
	t.Log("\n" + out.String())

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 5)
	require.Contains(t, lines[0], "150 passages, 50 judged queries; embedded mode, embedder hash-384")
	ndcgOf := make(map[string]float64)
	for _, line := range lines[2:] {
		f := strings.Fields(line)
		require.Len(t, f, 6, line)
		for i, v := range f[1:] {
			x, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err, line)
			if i < 3 {
				require.True(t, x >= 0 && x <= 1, "metric %s of %s is not in [0,1]", v, f[0])
			} else {
				// A latency: only its form is checked, never how long a
				// search took (a fast one prints 0.00).
				require.GreaterOrEqual(t, x, 0.0, "latency of %s", f[0])
			}
		}
		ndcgOf[f[0]], _ = strconv.ParseFloat(f[1], 64)
	}
	require.ElementsMatch(t, []string{modeBM25, modeDense, modeHybrid}, keys(ndcgOf))
	require.Greater(t, ndcgOf[modeBM25], 0.3, "lexical search finds the judged sections")
	require.Greater(t, ndcgOf[modeDense], 0.3, "dense search finds the judged sections")
	require.GreaterOrEqual(t, ndcgOf[modeHybrid], ndcgOf[modeBM25], "hybrid must not lose to lexical alone")
}

func keys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
