// Command eval measures ragqueue's retrieval quality on a BEIR-format data
// set (corpus.jsonl, queries.jsonl, qrels/test.tsv): it ingests the corpus
// through the real pipeline, runs every judged query, and prints nDCG@10,
// recall@10, MRR@10 and search latency p50/p95 for lexical-only (bm25),
// dense-only and hybrid search.
//
//	go run ./cmd/eval -data cmd/eval/testdata/beir-gospec
//	go run ./cmd/eval -data DIR -server http://127.0.0.1:8080 -key KEY
//
// Embedded mode (the default) runs the embedded-mode pipeline in this
// process on a temporary data dir, with the embedder RAGQ_EMBEDDER names.
// Server mode uploads to a running ragqueue and searches through its API
// (GET /v1/search?mode=lexical|dense|hybrid); the key's tenant should hold
// nothing else, since its other documents compete in the rankings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/ragqueue/ragqueue/jobs/queries"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ragqueue eval: %v\n", err)
		os.Exit(1)
	}
}

// Retrieval modes, one row each, in this order. The report names lexical
// search bm25; apiMode gives the search API's name of each.
const (
	modeBM25   = "bm25"
	modeDense  = queries.ModeDense
	modeHybrid = queries.ModeHybrid
)

// apiMode is the search mode (queries.Search) of a report's mode.
func apiMode(mode string) string {
	if mode == modeBM25 {
		return queries.ModeLexical
	}
	return mode
}

// searchDepth is how many passages one search asks for: chunks of one
// document collapse into one ranked document, so more than cutoff are
// needed to fill the first cutoff ranks.
const searchDepth = 100

// backend ingests a corpus and searches it.
type backend interface {
	// Describe names the backend for the report's header.
	Describe() string
	// Ingest stores the corpus and returns when every passage is searchable.
	Ingest(ctx context.Context, corpus []passage) error
	// Search returns corpus IDs, best first, for text in mode.
	Search(ctx context.Context, mode, text string) ([]string, error)
	Close() error
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "", "BEIR-format data set directory (corpus.jsonl, queries.jsonl, qrels/test.tsv)")
	server := fs.String("server", "", "base URL of a running ragqueue API; empty runs the embedded pipeline in-process")
	key := fs.String("key", "", "API key for -server (or RAGQ_EVAL_KEY)")
	timeout := fs.Duration("timeout", 30*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("-data DIR is required")
	}
	ds, err := loadDataset(*data)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	var be backend
	if *server != "" {
		k := *key
		if k == "" {
			k = getenv("RAGQ_EVAL_KEY")
		}
		be, err = newServerBackend(*server, k)
	} else {
		be, err = newEmbeddedBackend(ctx, getenv, stderr)
	}
	if err != nil {
		return err
	}
	defer be.Close()
	rows, err := evaluate(ctx, be, ds)
	if err != nil {
		return err
	}
	header := fmt.Sprintf("%s: %d passages, %d judged queries; %s", ds.Name, len(ds.Corpus), len(ds.Queries), be.Describe())
	return writeTable(stdout, header, rows)
}

// evaluate ingests ds's corpus into be and scores every mode.
func evaluate(ctx context.Context, be backend, ds *dataset) ([]result, error) {
	if err := be.Ingest(ctx, ds.Corpus); err != nil {
		return nil, err
	}
	var rows []result
	for _, mode := range []string{modeBM25, modeDense, modeHybrid} {
		r := result{Mode: mode}
		for _, q := range ds.Queries {
			start := time.Now()
			ranked, err := be.Search(ctx, mode, q.Text)
			took := time.Since(start)
			if err != nil {
				return nil, fmt.Errorf("eval: %s query %s: %w", mode, q.ID, err)
			}
			r.add(ranked, ds.Qrels[q.ID], took)
		}
		r.finish()
		rows = append(rows, r)
	}
	return rows, nil
}

// rankDocuments turns passages' document IDs (best first) into corpus IDs,
// each once, through docs (a document may stand for several corpus IDs
// whose texts were identical).
func rankDocuments(documentIDs []string, docs map[string][]string) []string {
	seen := make(map[string]bool)
	var out []string
	for _, d := range documentIDs {
		for _, id := range docs[d] {
			if !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
		}
	}
	return out
}
