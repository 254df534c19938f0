package storage_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
)

func TestPrepareJob(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	j, progress, result, err := storage.PrepareJob(ragqueue.Job{ID: "j", Tenant: "t", Progress: json.RawMessage(` {"n":1} `)}, now)
	require.NoError(t, err)
	require.Equal(t, ragqueue.StateQueued, j.State)
	require.Equal(t, now, j.CreatedAt)
	require.Equal(t, now, j.UpdatedAt)
	require.Nil(t, j.CompletedAt)
	require.Equal(t, `{"n":1}`, progress)
	require.Nil(t, result)

	j, _, _, err = storage.PrepareJob(ragqueue.Job{ID: "j", Tenant: "t", State: ragqueue.StateSucceeded}, now)
	require.NoError(t, err)
	require.NotNil(t, j.CompletedAt)
	require.Equal(t, now, *j.CompletedAt)

	for _, bad := range []ragqueue.Job{
		{Tenant: "t"},
		{ID: "j"},
		{ID: "j", Tenant: "t", Result: json.RawMessage(`{`)},
	} {
		_, _, _, err := storage.PrepareJob(bad, now)
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), "%+v", bad)
	}
}

func TestPrepareJobUpdate(t *testing.T) {
	t.Parallel()
	active, empty := ragqueue.StateActive, ragqueue.State("")
	progress, result, err := storage.PrepareJobUpdate(ragqueue.JobUpdate{State: &active, Progress: json.RawMessage(` {"n":2} `), Result: json.RawMessage(`null`)})
	require.NoError(t, err)
	require.Equal(t, `{"n":2}`, progress)
	require.Nil(t, result, "a JSON null clears the field")

	for _, bad := range []ragqueue.JobUpdate{
		{State: &empty},
		{Progress: json.RawMessage(`{`)},
		{Result: json.RawMessage(`nope`)},
	} {
		_, _, err := storage.PrepareJobUpdate(bad)
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), "%+v", bad)
	}
}

func TestCheckIndexedChunksAndQuery(t *testing.T) {
	t.Parallel()
	good := retrieval.IndexedChunk{ID: "c", Tenant: "t", Vector: []float32{1, 0}}
	require.NoError(t, storage.CheckIndexedChunks([]retrieval.IndexedChunk{good}, 2))
	for name, mutate := range map[string]func(*retrieval.IndexedChunk){
		"no id":     func(c *retrieval.IndexedChunk) { c.ID = "" },
		"no tenant": func(c *retrieval.IndexedChunk) { c.Tenant = "" },
		"wrong dim": func(c *retrieval.IndexedChunk) { c.Vector = []float32{1} },
		"no vector": func(c *retrieval.IndexedChunk) { c.Vector = nil },
	} {
		c := good
		mutate(&c)
		err := storage.CheckIndexedChunks([]retrieval.IndexedChunk{good, c}, 2)
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), name)
	}

	require.NoError(t, storage.CheckQuery(retrieval.Query{Tenant: "t", Text: "text only"}, 2))
	require.NoError(t, storage.CheckQuery(retrieval.Query{Tenant: "t", Vector: []float32{1, 0}}, 2))
	for name, q := range map[string]retrieval.Query{
		"no tenant": {Vector: []float32{1, 0}},
		"wrong dim": {Tenant: "t", Vector: []float32{1}},
	} {
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(storage.CheckQuery(q, 2)), name)
	}
}

func TestCheckChunks(t *testing.T) {
	t.Parallel()
	require.NoError(t, storage.CheckChunks("d", []ragqueue.Chunk{{ID: "c", Text: "héllo", Section: "s"}}))
	for _, bad := range []ragqueue.Chunk{
		{Text: "no id"},
		{ID: "c", Text: "nul\x00"},
		{ID: "c", Text: "ok", Section: "\xff"},
	} {
		err := storage.CheckChunks("d", []ragqueue.Chunk{bad})
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), "%+v", bad)
	}
}

func TestPrepareKeyAndCrawl(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	k, err := storage.PrepareKey(ragqueue.Key{ID: "k", Tenant: "t", Hash: []byte{1}}, now)
	require.NoError(t, err)
	require.Equal(t, now, k.CreatedAt)
	_, err = storage.PrepareKey(ragqueue.Key{ID: "k", Tenant: "t"}, now)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))

	c, err := storage.PrepareCrawl(ragqueue.Crawl{ID: "c", Tenant: "t", JobID: "j"}, now)
	require.NoError(t, err)
	require.Equal(t, ragqueue.StateQueued, c.Status)
	require.Equal(t, now, c.CreatedAt)
	_, err = storage.PrepareCrawl(ragqueue.Crawl{ID: "c", Tenant: "t"}, now)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
}

func TestCrawlJSONRoundTrip(t *testing.T) {
	t.Parallel()
	spec, docs, errs, err := storage.CrawlJSON(ragqueue.Crawl{ID: "c"})
	require.NoError(t, err)
	require.Equal(t, "[]", docs)
	require.Equal(t, "[]", errs)
	var got ragqueue.Crawl
	require.NoError(t, storage.DecodeCrawlJSON(&got, []byte(spec), []byte(docs), []byte(errs)))
	require.Equal(t, []string{}, got.Documents)
	require.Equal(t, []ragqueue.URLError{}, got.Errors)
	require.Error(t, storage.DecodeCrawlJSON(&got, []byte(spec), []byte("{"), []byte(errs)))
}

func TestBlobKeys(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{}, storage.BlobKeys("", ""))
	require.Equal(t, []string{"a"}, storage.BlobKeys("a", "a"))
	require.Equal(t, []string{"a", "b"}, storage.BlobKeys("a", "b"))
	require.Equal(t, []string{"b"}, storage.BlobKeys("", "b"))
}

func TestStoredMetadata(t *testing.T) {
	t.Parallel()
	require.JSONEq(t, `{}`, string(storage.StoredMetadata(nil)))
	require.JSONEq(t, `{"a":1}`, string(storage.StoredMetadata([]byte(`{"a":1}`))))
}

func TestCrawlCompletion(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	given := now.Add(-time.Hour)
	require.Nil(t, storage.CrawlCompletion(ragqueue.Crawl{Status: ragqueue.StateActive}, now))
	require.Equal(t, &now, storage.CrawlCompletion(ragqueue.Crawl{Status: ragqueue.StateSucceeded}, now))
	require.Equal(t, &given, storage.CrawlCompletion(ragqueue.Crawl{Status: ragqueue.StateSucceeded, CompletedAt: &given}, now))
	require.Equal(t, &given, storage.CrawlCompletion(ragqueue.Crawl{Status: ragqueue.StateActive, CompletedAt: &given}, now))
}
