package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/cmd/internal/app"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage/sqlite"
)

// Markers that the test embedder reacts to: a text containing holdMarker
// waits until the test releases it, one containing failMarker fails for
// good while failing is on.
const (
	holdMarker = "zzholdzz"
	failMarker = "zzfailzz"
)

// testEmbedder wraps the real embedder for lifecycle tests. Searches (whose
// texts carry no marker) are never held or failed.
type testEmbedder struct {
	retrieval.Embedder
	entered chan struct{} // closed when a held call arrives
	release chan struct{} // closing it lets held calls through
	once    sync.Once
	failing atomic.Bool
}

func newTestEmbedder() *testEmbedder {
	e := &testEmbedder{entered: make(chan struct{}), release: make(chan struct{})}
	e.failing.Store(true)
	return e
}

// option installs the embedder in the app, around its real one.
func (e *testEmbedder) option() app.Option {
	// One fixed space with this embedder, over the live index.
	return app.WrapEmbedder(func(live retrieval.Embedder) retrieval.Embedder {
		e.Embedder = live
		return e
	})
}

func (e *testEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	for _, text := range texts {
		if strings.Contains(text, failMarker) && e.failing.Load() {
			return nil, fmt.Errorf("%w: %w", ragqueue.Errorf(ragqueue.EINVALID, "test embedder refuses %q", failMarker), asynq.SkipRetry)
		}
		if strings.Contains(text, holdMarker) {
			e.once.Do(func() { close(e.entered) })
			select {
			case <-e.release:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			break
		}
	}
	return e.Embedder.Embed(ctx, texts)
}

// waitHeld waits until the embedder holds a call.
func (e *testEmbedder) waitHeld(t *testing.T) {
	t.Helper()
	select {
	case <-e.entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the embedder was never asked for the held text")
	}
}

// jobResp mirrors GET /v1/jobs/{id}.
type jobResp struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	State    string `json:"state"`
	Error    string `json:"error"`
	Progress struct {
		Stage          string `json:"stage"`
		Pages          int    `json:"pages"`
		PagesParsed    int    `json:"pages_parsed"`
		Chunks         int    `json:"chunks"`
		ChunksEmbedded int    `json:"chunks_embedded"`
		ChunksReused   int    `json:"chunks_reused"`
	} `json:"progress"`
	Result json.RawMessage `json:"result"`
}

// waitJob polls a job until it is terminal.
func (b *testBundle) waitJob(t testing.TB, key, id string) jobResp {
	t.Helper()
	var j jobResp
	require.Eventually(t, func() bool {
		j = jobResp{}
		code := b.do(t, http.MethodGet, "/v1/jobs/"+id, key, nil, "", &j)
		return code == http.StatusOK && (j.State == "succeeded" || j.State == "failed" || j.State == "canceled")
	}, 60*time.Second, 20*time.Millisecond, "job %s never finished", id)
	return j
}

// versionResp mirrors PUT /v1/documents/{id}'s answer.
type versionResp struct {
	Document  docResp `json:"document"`
	JobID     string  `json:"job_id"`
	Version   int     `json:"version"`
	Unchanged bool    `json:"unchanged"`
}

// putText sends new content as JSON.
func (b *testBundle) putText(t testing.TB, key, id string, body map[string]any, out any) int {
	t.Helper()
	return b.doJSON(t, http.MethodPut, "/v1/documents/"+id, key, body, out)
}

// postText uploads a JSON text and returns its document id and job id.
func (b *testBundle) postText(t testing.TB, key, title, text string) (id, jobID string) {
	t.Helper()
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/documents", key,
		map[string]any{"title": title, "text": text}, &up))
	require.Len(t, up.Documents, 1)
	return up.Documents[0].ID, up.Documents[0].JobID
}

// searchTexts returns the texts of the tenant's top hits for q.
func (b *testBundle) searchTexts(t testing.TB, key, q string) []searchHit {
	t.Helper()
	var sr searchResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?top_k=20&q="+url.QueryEscape(q), key, nil, "", &sr))
	hits := make([]searchHit, len(sr.Results))
	for i, r := range sr.Results {
		hits[i] = searchHit{doc: r.DocumentID, chunk: r.ChunkID, text: r.Text}
	}
	return hits
}

type searchHit struct{ doc, chunk, text string }

// answers reports whether any hit of the document contains word.
func answers(hits []searchHit, docID, word string) bool {
	for _, h := range hits {
		if h.doc == docID && strings.Contains(h.text, word) {
			return true
		}
	}
	return false
}

// blobFiles lists the blobs the data dir holds: the files of its blob store
// and the rows of the SQLite file's small-blob table, where storage.FileBlobs
// keeps blobs up to storage.DefaultSmallBlobMax.
func (b *testBundle) blobFiles(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(b.dataDir, "blobs"))
	require.NoError(t, err)
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	db, err := sqlite.Open(context.Background(), filepath.Join(b.dataDir, "ragqueue.db"))
	require.NoError(t, err)
	defer db.Close()
	rows, err := db.SQL().Query(`SELECT key FROM blobs`)
	require.NoError(t, err)
	defer rows.Close()
	for rows.Next() {
		var key string
		require.NoError(t, rows.Scan(&key))
		names = append(names, key)
	}
	require.NoError(t, rows.Err())
	return names
}

// rowsOf counts what the SQLite file holds for a document: index rows
// (searchable or staged) and stored chunk rows, read straight from the file.
func (b *testBundle) rowsOf(t testing.TB, docID string) (indexRows, chunkRows int) {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(b.dataDir, "ragqueue.db"))
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM index_chunks WHERE document_id = ?`, docID).Scan(&indexRows))
	require.NoError(t, db.SQL().QueryRow(`SELECT count(*) FROM chunks WHERE document_id = ?`, docID).Scan(&chunkRows))
	return indexRows, chunkRows
}

// pumpV1 and pumpV2 are two versions of a document, long enough for several
// chunks at RAGQ_CHUNK_SIZE=200, sharing all paragraphs but one.
const (
	pumpIntro = "Zephyr pump maintenance guide for operators in the field and in the workshop."
	pumpV1    = pumpIntro + `

The pressure valve is calibrated every month with the blue torque wrench; calibration takes twenty minutes.

The warranty covers the motor for five years and the impeller for two years; dry running is never covered.

Error code E42 means the flow sensor is disconnected: reseat the connector under the front panel.

Filters are replaced every quarter; a clogged filter makes the pump whine at a high pitch.`
	pumpV2 = pumpIntro + `

The pressure valve is calibrated every month with the blue torque wrench; calibration takes twenty minutes.

The warranty covers the motor for seven years and the impeller for four years; saltwater corrosion is never covered.

Error code E42 means the flow sensor is disconnected: reseat the connector under the front panel.

Filters are replaced every quarter; a clogged filter makes the pump whine at a high pitch.`
)

func TestPutDocumentNewVersion(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"RAGQ_CHUNK_SIZE": "200", "RAGQ_CHUNK_OVERLAP": "20", "RAGQ_MAX_UPLOAD_BYTES": "65536"})
	key := testAdminKey
	id, job1 := b.postText(t, key, "Pump guide", pumpV1)
	v1 := b.waitStatus(t, key, id)
	require.Equal(t, "ready", v1.Status, v1.Error)
	require.GreaterOrEqual(t, v1.Chunks, 3)
	require.True(t, answers(b.searchTexts(t, key, "warranty dry running"), id, "dry running"))

	// The same bytes: nothing changes, nothing is enqueued.
	var vr versionResp
	require.Equal(t, http.StatusOK, b.putText(t, key, id, map[string]any{"text": pumpV1}, &vr))
	require.True(t, vr.Unchanged)
	require.Equal(t, 1, vr.Version)
	require.Equal(t, job1, vr.JobID)
	require.Equal(t, "ready", vr.Document.Status)
	require.Len(t, b.blobFiles(t), 1, "the repeated bytes were not kept")

	// A new version, as a file, its metadata part after the file.
	body, ct := multipartBodyMetaLast(t, []filePart{{name: "pump-guide-2.txt", body: pumpV2}}, `{"rev":"2"}`)
	vr = versionResp{}
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPut, "/v1/documents/"+id, key, body, ct, &vr))
	require.False(t, vr.Unchanged)
	require.Equal(t, 2, vr.Version)
	require.Equal(t, id, vr.Document.ID)
	require.Equal(t, 2, vr.Document.Version)
	require.NotEqual(t, job1, vr.JobID)
	require.Equal(t, vr.JobID, vr.Document.JobID)
	require.Equal(t, "queued", vr.Document.Status)

	v2 := b.waitStatus(t, key, id)
	require.Equal(t, "ready", v2.Status, v2.Error)
	require.Equal(t, 2, v2.Version)
	require.Equal(t, "pump-guide-2.txt", v2.Title)
	require.Equal(t, "upload:pump-guide-2.txt", v2.Source)
	require.JSONEq(t, `{"rev":"2"}`, string(v2.Metadata))
	require.Equal(t, v1.CreatedAt, v2.CreatedAt)

	hits := b.searchTexts(t, key, "warranty saltwater corrosion dry running")
	require.True(t, answers(hits, id, "saltwater"), "the new version answers")
	require.False(t, answers(hits, id, "dry running"), "the old version no longer answers")
	indexRows, chunkRows := b.rowsOf(t, id)
	require.Equal(t, v2.Chunks, indexRows, "only the new version is in the index")
	require.Equal(t, v2.Chunks, chunkRows, "only the new version's chunk text is stored")
	require.Len(t, b.blobFiles(t), 1, "the old version's bytes went after the switch")

	// Progress: unchanged paragraphs reused their vectors.
	j := b.waitJob(t, key, vr.JobID)
	require.Equal(t, "succeeded", j.State)
	require.Equal(t, "done", j.Progress.Stage)
	require.Equal(t, v2.Chunks, j.Progress.Chunks)
	require.Equal(t, v2.Chunks, j.Progress.ChunksEmbedded)
	require.Positive(t, j.Progress.ChunksReused)
	require.Less(t, j.Progress.ChunksReused, v2.Chunks)
	require.Zero(t, j.Progress.Pages)
	require.Zero(t, j.Progress.PagesParsed)

	// JSON without title or metadata keeps both.
	vr = versionResp{}
	require.Equal(t, http.StatusAccepted, b.putText(t, key, id, map[string]any{"text": pumpV1 + "\n\nAppendix."}, &vr))
	require.Equal(t, 3, vr.Version)
	require.Equal(t, "pump-guide-2.txt", vr.Document.Title)
	require.JSONEq(t, `{"rev":"2"}`, string(vr.Document.Metadata))
	require.Equal(t, "ready", b.waitStatus(t, key, id).Status)

	// Bytes another document has: 409 naming it.
	other, _ := b.postText(t, key, "Other", "Lighthouses guide ships along dangerous coasts.")
	require.Equal(t, "ready", b.waitStatus(t, key, other).Status)
	var e apiError
	require.Equal(t, http.StatusConflict, b.putText(t, key, id, map[string]any{"text": "Lighthouses guide ships along dangerous coasts."}, &e))
	require.Equal(t, "conflict", e.Error.Code)
	require.Contains(t, e.Error.Message, other)

	// The same refusals as POST, and the usual 403/404.
	reader := b.newKey(t, "default", "reader")
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	two, twoCT := multipartBody(t, []filePart{{name: "a.txt", body: "one"}, {name: "b.txt", body: "two"}}, "")
	pngBody, pngCT := multipartBody(t, []filePart{{name: "cat.png", body: png}}, "")
	none, noneCT := multipartBody(t, nil, `{"a":1}`)
	big, bigCT := multipartBody(t, []filePart{{name: "big.txt", body: strings.Repeat("big ", 20000)}}, "")
	badMeta, badMetaCT := multipartBody(t, []filePart{{name: "a.txt", body: "fine"}}, `[1]`)
	for _, tt := range []struct {
		name     string
		key, id  string
		body     func() (int, apiError)
		want     int
		wantCode string
	}{
		{"two files", key, id, raw(b, t, key, id, two, twoCT), 400, "invalid_request"},
		{"png", key, id, raw(b, t, key, id, pngBody, pngCT), 415, "unsupported_media_type"},
		{"no file", key, id, raw(b, t, key, id, none, noneCT), 400, "invalid_request"},
		{"too large", key, id, raw(b, t, key, id, big, bigCT), 413, "payload_too_large"},
		{"bad metadata", key, id, raw(b, t, key, id, badMeta, badMetaCT), 400, "invalid_request"},
		{"blank text", key, id, js(b, t, key, id, map[string]any{"text": "  "}), 400, "invalid_request"},
		{"bad content type", key, id, js(b, t, key, id, map[string]any{"text": "x", "content_type": "image/png"}), 415, "unsupported_media_type"},
		{"wrong body type", key, id, raw(b, t, key, id, strings.NewReader("hello"), "text/plain"), 415, "unsupported_media_type"},
		{"unknown document", key, "nope", js(b, t, key, "nope", map[string]any{"text": "new"}), 404, "not_found"},
		{"reader", reader, id, js(b, t, reader, id, map[string]any{"text": "new"}), 403, "forbidden"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, e := tt.body()
			require.Equal(t, tt.want, code, e.Error.Message)
			require.Equal(t, tt.wantCode, e.Error.Code)
			require.NotEmpty(t, e.Error.Message)
		})
	}
	require.Len(t, b.blobFiles(t), 2, "refused versions leave no bytes behind")
	d := docResp{}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents/"+id, key, nil, "", &d))
	require.Equal(t, 3, d.Version, "refused versions changed the document")
}

// raw and js build requests for the PUT refusal table.
func raw(b *testBundle, t *testing.T, key, id string, body interface{ Read([]byte) (int, error) }, ct string) func() (int, apiError) {
	return func() (int, apiError) {
		var e apiError
		return b.do(t, http.MethodPut, "/v1/documents/"+id, key, body, ct, &e), e
	}
}

func js(b *testBundle, t *testing.T, key, id string, body map[string]any) func() (int, apiError) {
	return func() (int, apiError) {
		var e apiError
		return b.putText(t, key, id, body, &e), e
	}
}

// TestOldVersionAnswersWhileNewOneProcesses holds the new version's
// embedding: meanwhile the old version answers and a further PUT is refused;
// once it is ready, only the new version answers.
func TestOldVersionAnswersWhileNewOneProcesses(t *testing.T) {
	t.Parallel()
	emb := newTestEmbedder()
	b := setup(t, nil, emb.option())
	key := testAdminKey
	id, _ := b.postText(t, key, "Bread", "Sourdough rises slowly because wild yeast ferments the dough overnight.")
	require.Equal(t, "ready", b.waitStatus(t, key, id).Status)

	var vr versionResp
	v2Text := "Rye bread " + holdMarker + " needs a sour starter and a long cold proof in the fridge."
	require.Equal(t, http.StatusAccepted, b.putText(t, key, id, map[string]any{"text": v2Text}, &vr))
	emb.waitHeld(t)

	d := docResp{}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents/"+id, key, nil, "", &d))
	require.Equal(t, "processing", d.Status)
	require.Equal(t, 2, d.Version)
	var j jobResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/jobs/"+vr.JobID, key, nil, "", &j))
	require.Equal(t, "active", j.State)
	require.Equal(t, "embed", j.Progress.Stage, "a client sees where the job is")
	require.Equal(t, 1, j.Progress.Chunks)
	require.Zero(t, j.Progress.ChunksEmbedded)
	require.True(t, answers(b.searchTexts(t, key, "sourdough wild yeast"), id, "wild yeast"), "the old version keeps answering")
	require.False(t, answers(b.searchTexts(t, key, "rye starter fridge"), id, "Rye"), "the new version answers before it is ready")
	var ans answerResp
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", key,
		map[string]any{"question": "Why does sourdough rise slowly?"}, &ans))
	require.Contains(t, ans.Answer, "wild yeast")

	// One version at a time; the same bytes again is fine.
	var e apiError
	require.Equal(t, http.StatusConflict, b.putText(t, key, id, map[string]any{"text": "A third text."}, &e))
	require.Contains(t, e.Error.Message, "still processing")
	vr2 := versionResp{}
	require.Equal(t, http.StatusOK, b.putText(t, key, id, map[string]any{"text": v2Text}, &vr2))
	require.True(t, vr2.Unchanged)
	require.Equal(t, vr.JobID, vr2.JobID)

	close(emb.release)
	require.Equal(t, "ready", b.waitStatus(t, key, id).Status)
	require.True(t, answers(b.searchTexts(t, key, "rye starter fridge"), id, "Rye"))
	require.False(t, answers(b.searchTexts(t, key, "sourdough wild yeast"), id, "wild yeast"))
	require.Len(t, b.blobFiles(t), 1)
}

func TestRetryDocument(t *testing.T) {
	t.Parallel()
	emb := newTestEmbedder()
	b := setup(t, nil, emb.option())
	key := testAdminKey

	id, job1 := b.postText(t, key, "Flaky", "Glaciers carve valleys "+failMarker+" as they advance over centuries.")
	d := b.waitStatus(t, key, id)
	require.Equal(t, "failed", d.Status)
	require.Contains(t, d.Error, "test embedder refuses")
	require.Equal(t, "failed", b.waitJob(t, key, job1).State)

	// The embedder is fixed; a retry is a new job, and the document is
	// queued again with its error cleared.
	emb.failing.Store(false)
	var rr struct {
		JobID    string  `json:"job_id"`
		Document docResp `json:"document"`
	}
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents/"+id+"/retry", key, nil, "", &rr))
	require.NotEmpty(t, rr.JobID)
	require.NotEqual(t, job1, rr.JobID)
	require.Equal(t, "queued", rr.Document.Status)
	require.Empty(t, rr.Document.Error)
	require.Equal(t, rr.JobID, rr.Document.JobID)
	require.Equal(t, "succeeded", b.waitJob(t, key, rr.JobID).State)
	d = b.waitStatus(t, key, id)
	require.Equal(t, "ready", d.Status, d.Error)
	require.Equal(t, 1, d.Version, "a retry is the same version")
	require.True(t, answers(b.searchTexts(t, key, "glaciers carve valleys"), id, "Glaciers"))
	require.Equal(t, "failed", b.waitJob(t, key, job1).State, "the failed job stays as it ended")

	// What cannot be retried, and why.
	var up uploadResp
	body, ct := multipartBody(t, []filePart{{name: "empty.html", body: "<html><head><title>Nothing</title></head><body></body></html>"}}, "")
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", key, body, ct, &up))
	rejectedID := up.Documents[0].ID
	require.Equal(t, "rejected", b.waitStatus(t, key, rejectedID).Status)

	held, _ := b.postText(t, key, "Held", "Orchestras tune "+holdMarker+" to the oboe before the concert.")
	emb.waitHeld(t)
	reader := b.newKey(t, "default", "reader")
	for _, tt := range []struct {
		name, key, id, contains string
		want                    int
	}{
		{"rejected", key, rejectedID, "rejected documents cannot be retried: the document contains no text", 409},
		{"ready", key, id, "is ready", 409},
		{"processing", key, held, "is processing", 409},
		{"unknown", key, "nope", "not found", 404},
		{"reader", reader, id, "", 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			require.Equal(t, tt.want, b.do(t, http.MethodPost, "/v1/documents/"+tt.id+"/retry", tt.key, nil, "", &e))
			require.Contains(t, e.Error.Message, tt.contains)
		})
	}
	close(emb.release)
	require.Equal(t, "ready", b.waitStatus(t, key, held).Status)
}
