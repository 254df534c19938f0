package main

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeAPI is the part of ragqueue's HTTP API the server mode uses: uploads
// become ready at once, and search ranks documents by how many query words
// their text contains, whatever the mode. searches counts the searches
// asked, by their mode and top_k parameters (checked after the run: a
// handler must not stop the test from its own goroutine).
func fakeAPI(t *testing.T, key string) (srv *httptest.Server, searches func() map[string]int) {
	t.Helper()
	var mu sync.Mutex
	texts := map[string]string{}
	asked := map[string]int{}
	mux := http.NewServeMux()
	auth := func(h http.HandlerFunc) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer "+key {
				http.Error(w, `{"error":{"code":"unauthorized"}}`, http.StatusUnauthorized)
				return
			}
			h(w, r)
		}
	}
	mux.HandleFunc("POST /v1/documents", auth(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Title, Text string }
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		id := "doc-" + string(rune('a'+len(texts)))
		texts[id] = strings.ToLower(req.Text)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
		_ = json.NewEncoder(w).Encode(map[string]any{"documents": []map[string]any{{"id": id, "status": "queued"}}})
	}))
	mux.HandleFunc("GET /v1/documents/{id}", auth(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"id": r.PathValue("id"), "status": "ready"})
	}))
	mux.HandleFunc("GET /v1/search", auth(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		asked["mode="+r.URL.Query().Get("mode")+" top_k="+r.URL.Query().Get("top_k")]++
		var results []map[string]any
		for id, text := range texts {
			for _, word := range strings.Fields(strings.ToLower(r.URL.Query().Get("q"))) {
				if strings.Contains(text, word) {
					results = append(results, map[string]any{"document_id": id, "chunk_id": id + ":0"})
					break
				}
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"results": results})
	}))
	srv = httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(asked)
	}
}

func TestEvalServerMode(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "qrels"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "corpus.jsonl"), []byte(
		`{"_id":"p1","title":"Owls","text":"Owls hunt at night."}`+"\n"+`{"_id":"p2","title":"Bees","text":"Bees make honey."}`+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "queries.jsonl"), []byte(
		`{"_id":"q1","text":"honey"}`+"\n"+`{"_id":"q2","text":"unjudged"}`+"\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "qrels", "test.tsv"), []byte("query-id\tcorpus-id\tscore\nq1\tp2\t1\n"), 0o644))
	srv, searches := fakeAPI(t, "secret-key")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	getenv := func(k string) string { return map[string]string{"RAGQ_EVAL_KEY": "secret-key"}[k] }
	require.NoError(t, run(ctx, []string{"-data", dir, "-server", srv.URL}, getenv, &out, &errOut), errOut.String())
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 5, out.String())
	require.Contains(t, lines[0], "2 passages, 1 judged queries; server "+srv.URL)
	require.Regexp(t, `^bm25 +1\.000 +1\.000 +1\.000 `, lines[2])
	require.Regexp(t, `^dense +1\.000 +1\.000 +1\.000 `, lines[3])
	require.Regexp(t, `^hybrid +1\.000 +1\.000 +1\.000 `, lines[4])
	// One search of the judged query per row, each in the API's mode.
	require.Equal(t, map[string]int{"mode=lexical top_k=100": 1, "mode=dense top_k=100": 1, "mode=hybrid top_k=100": 1}, searches())

	err := run(ctx, []string{"-data", dir, "-server", srv.URL, "-key", "wrong"}, getenv, &out, &errOut)
	require.ErrorContains(t, err, "401")
}
