package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// passage is one corpus.jsonl line of a BEIR data set.
type passage struct {
	ID    string `json:"_id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// document is the text a passage is ingested as: its title, a blank line,
// its text (the text alone when untitled), so that both count in search.
func (p passage) document() string {
	if p.Title == "" {
		return p.Text
	}
	return p.Title + "\n\n" + p.Text
}

// query is one queries.jsonl line.
type query struct {
	ID   string `json:"_id"`
	Text string `json:"text"`
}

// dataset is a BEIR-format data set: the corpus, the queries, and the
// graded judgments (query ID → corpus ID → relevance, > 0 relevant).
type dataset struct {
	Name    string
	Corpus  []passage
	Queries []query
	Qrels   map[string]map[string]int
}

// loadDataset reads dir/corpus.jsonl, dir/queries.jsonl and
// dir/qrels/test.tsv (a header line, then query-id, corpus-id, score).
// Only queries with at least one judgment are kept: BEIR scores those.
func loadDataset(dir string) (*dataset, error) {
	ds := &dataset{Name: filepath.Base(filepath.Clean(dir)), Qrels: make(map[string]map[string]int)}
	if err := readJSONL(filepath.Join(dir, "corpus.jsonl"), func(p passage) error {
		if p.ID == "" {
			return errors.New("a passage without _id")
		}
		ds.Corpus = append(ds.Corpus, p)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := readQrels(filepath.Join(dir, "qrels", "test.tsv"), ds.Qrels); err != nil {
		return nil, err
	}
	if err := readJSONL(filepath.Join(dir, "queries.jsonl"), func(q query) error {
		if _, judged := ds.Qrels[q.ID]; judged && strings.TrimSpace(q.Text) != "" {
			ds.Queries = append(ds.Queries, q)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	if len(ds.Corpus) == 0 || len(ds.Queries) == 0 {
		return nil, fmt.Errorf("eval: %s: %d passages and %d judged queries; need at least one of each", dir, len(ds.Corpus), len(ds.Queries))
	}
	return ds, nil
}

func readJSONL[T any](path string, fn func(T) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return fmt.Errorf("eval: %s:%d: %w", path, line, err)
		}
		if err := fn(v); err != nil {
			return fmt.Errorf("eval: %s:%d: %w", path, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("eval: %s: %w", path, err)
	}
	return nil
}

func readQrels(path string, into map[string]map[string]int) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.FieldsPerRecord = 3
	r.LazyQuotes = true
	for line := 1; ; line++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("eval: %s: %w", path, err)
		}
		score, err := strconv.Atoi(strings.TrimSpace(rec[2]))
		if err != nil {
			if line == 1 {
				continue // the header
			}
			return fmt.Errorf("eval: %s:%d: score %q is not a whole number", path, line, rec[2])
		}
		q, d := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1])
		if into[q] == nil {
			into[q] = make(map[string]int)
		}
		into[q][d] = score
	}
}
