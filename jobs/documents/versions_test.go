package documents_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// longManual is manual with appendices: enough chunks for several
// embedding batches.
const longManual = manual + `

Appendix A: spare parts. The impeller, the pressure valve and the flow sensor can be ordered separately. Keep one spare filter per pump in stock, because filters sell out every spring.

Appendix B: noise. A rattling sound means loose mounting bolts; tighten them to twelve newton metres. A humming sound at start is normal and fades within a minute.

Appendix C: electrical. The pump runs on a sixteen ampere circuit. Never share the circuit with a heater, or the breaker trips when both start at once.

Appendix D: cleaning. Wipe the housing with a damp cloth only. Solvents attack the seals, and a leaking seal voids the warranty on the motor.`

// manualV2 is longManual with one paragraph changed: the new version of
// the field manual.
var manualV2 = strings.Replace(longManual,
	"The warranty covers the motor for five years and the impeller for two years.",
	"The warranty now covers the motor for seven years and the impeller for three years.", 1)

// ingestProgress mirrors an ingest job's progress JSON.
type ingestProgress struct {
	Stage          string `json:"stage"`
	Pages          int    `json:"pages"`
	PagesParsed    int    `json:"pages_parsed"`
	Chunks         int    `json:"chunks"`
	ChunksEmbedded int    `json:"chunks_embedded"`
	ChunksReused   int    `json:"chunks_reused"`
}

// newVersion stores text as the next version of doc, as PUT does, and
// records its job. It returns the updated document and the blob keys the
// store released.
func (e *env) newVersion(t *testing.T, doc ragqueue.Document, text string) (ragqueue.Document, []string) {
	t.Helper()
	info, err := e.Blobs.Put(t.Context(), strings.NewReader(text), 0)
	require.NoError(t, err)
	next, released, err := e.Store.NewVersion(t.Context(), doc.Tenant, doc.ID, doc.Version, ragqueue.Document{
		Title: doc.Title, Source: doc.Source, ContentType: doc.ContentType,
		SHA256: info.SHA256, Size: info.Size, BlobKey: info.Key, JobID: uuid.NewString(),
	})
	require.NoError(t, err)
	require.NoError(t, e.Store.CreateJob(t.Context(), ragqueue.Job{ID: next.JobID, Tenant: doc.Tenant, Type: ragqueue.KindIngest, State: ragqueue.StateQueued}))
	return next, released
}

// runIngest runs the parse task of doc's current version and then the embed
// tasks it recorded, one at a time, on mux.
func runIngest(t *testing.T, mux *asynq.ServeMux, rec *recorder, doc ragqueue.Document) error {
	t.Helper()
	before := len(rec.Taken())
	parse, err := jobs.NewTask(jobs.ParseArgs{Tenant: doc.Tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: doc.Version})
	require.NoError(t, err)
	if err := mux.ProcessTask(t.Context(), parse); err != nil {
		return err
	}
	for _, task := range rec.Taken()[before:] {
		if err := mux.ProcessTask(t.Context(), task); err != nil {
			return err
		}
	}
	return nil
}

// chunkTexts returns the texts of a stored document version's chunks.
func (e *env) chunkTexts(t *testing.T, doc ragqueue.Document, version int) []string {
	t.Helper()
	chunks, err := e.Store.ListChunks(t.Context(), doc.Tenant, doc.ID, version)
	require.NoError(t, err)
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = c.Text
	}
	return texts
}

// versionIDs are the chunk IDs of the first n chunks of a document version.
func versionIDs(doc ragqueue.Document, version, n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = ingest.ChunkID(doc.Tenant, doc.ID, version, i)
	}
	return ids
}

func TestNewVersionReusesUnchangedChunks(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	rec := &recorder{}
	d := b.Deps(rec)
	counter := &countingEmbedder{Embedder: d.Embedder}
	d.Embedder = counter
	mux := b.WorkerMux(d)

	v1 := b.AddDocument(t, b.tenant, ingest.TypeText, longManual)
	require.NoError(t, runIngest(t, mux, rec, v1))
	v1Texts := b.chunkTexts(t, v1, 1)
	require.GreaterOrEqual(t, len(v1Texts), 2*3, "several embedding batches")
	require.ElementsMatch(t, v1Texts, counter.Reset(), "the first version embeds every chunk once")

	v2, released := b.newVersion(t, v1, manualV2)
	require.Empty(t, released, "version 1's bytes answer until version 2 is ready")
	require.NoError(t, runIngest(t, mux, rec, v2))
	v2Texts := b.chunkTexts(t, v2, 2)
	old := map[string]bool{}
	for _, text := range v1Texts {
		old[text] = true
	}
	var changed []string
	reused := 0
	for _, text := range v2Texts {
		if old[text] {
			reused++
		} else {
			changed = append(changed, text)
		}
	}
	require.NotEmpty(t, changed, "the test needs a changed chunk")
	require.Positive(t, reused, "the test needs unchanged chunks")
	require.ElementsMatch(t, changed, counter.Reset(), "only changed chunks are embedded again")

	got := b.GetDocument(t, b.tenant, v1.ID)
	require.Equal(t, ragqueue.StatusReady, got.Status)
	require.Equal(t, 2, got.Version)
	require.ElementsMatch(t, versionIDs(v2, 2, len(v2Texts)), b.IndexedChunkIDs(t, b.tenant, v1.ID), "only version 2 answers")
	require.Empty(t, b.chunkTexts(t, v1, 1), "version 1's chunk text went with the switch")
	_, err := b.Blobs.Open(t.Context(), v1.BlobKey)
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(err), "version 1's bytes are deleted after the switch")
	rc, err := b.Blobs.Open(t.Context(), v2.BlobKey)
	require.NoError(t, err)
	require.NoError(t, rc.Close())

	job := b.GetJob(t, b.tenant, v2.JobID)
	require.Equal(t, ragqueue.StateSucceeded, job.State)
	var p ingestProgress
	require.NoError(t, json.Unmarshal(job.Progress, &p))
	require.Equal(t, ingestProgress{Stage: "done", Chunks: len(v2Texts), ChunksEmbedded: len(v2Texts), ChunksReused: reused}, p)
	var res struct {
		DocumentID   string `json:"document_id"`
		Version      int    `json:"version"`
		Chunks       int    `json:"chunks"`
		ChunksReused int    `json:"chunks_reused"`
	}
	require.NoError(t, json.Unmarshal(job.Result, &res))
	require.Equal(t, v1.ID, res.DocumentID)
	require.Equal(t, 2, res.Version)
	require.Equal(t, reused, res.ChunksReused)

	// At-least-once: the whole job again embeds nothing and changes nothing.
	require.NoError(t, runIngest(t, mux, rec, v2))
	require.Empty(t, counter.Reset())
	require.ElementsMatch(t, versionIDs(v2, 2, len(v2Texts)), b.IndexedChunkIDs(t, b.tenant, v1.ID))
}

// TestVersionSwitchIsAtomic searches a document over and over while its new
// version is embedded and switched to: every answer comes from exactly one
// version, never from none and never from both.
func TestVersionSwitchIsAtomic(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	rec := &recorder{}
	v1 := b.AddDocument(t, b.tenant, ingest.TypeText, longManual)
	require.NoError(t, runIngest(t, b.WorkerMux(b.Deps(rec)), rec, v1))
	n1 := len(b.chunkTexts(t, v1, 1))
	v1IDs := versionIDs(v1, 1, n1)

	d := b.Deps(rec)
	gate := &gatedEmbedder{Embedder: d.Embedder, entered: make(chan struct{}), release: make(chan struct{})}
	d.Embedder = gate
	mux := b.WorkerMux(d)
	v2, _ := b.newVersion(t, v1, manualV2)

	var (
		stop       atomic.Bool
		searches   atomic.Int64
		violations = make(chan string, 100)
		hammer     sync.WaitGroup
	)
	query, err := retrieval.NewHashEmbedder(dim).Embed(t.Context(), []string{"pump warranty motor impeller"})
	require.NoError(t, err)
	hammer.Add(1)
	go func() {
		defer hammer.Done()
		for !stop.Load() {
			ps, err := retrieval.Search(context.Background(), b.Index, retrieval.Query{
				Tenant: b.tenant, Text: "pump warranty motor impeller", Vector: query[0], TopK: 100, DocumentIDs: []string{v1.ID},
			})
			if err != nil {
				select {
				case violations <- err.Error():
				default:
				}
				return
			}
			searches.Add(1)
			versions := map[string]bool{}
			for _, p := range ps {
				versions[versionOf(p.ChunkID, v1IDs)] = true
			}
			if len(ps) == 0 || len(versions) != 1 {
				select {
				case violations <- fmt.Sprintf("a search saw versions %v (%d passages)", versions, len(ps)):
				default:
				}
			}
		}
	}()

	done := make(chan error, 1)
	go func() { done <- runIngest(t, mux, rec, v2) }()
	select {
	case <-gate.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("embed never called the embedder")
	}
	// Version 2 is being embedded: version 1 still answers, all of it.
	require.ElementsMatch(t, v1IDs, b.IndexedChunkIDs(t, b.tenant, v1.ID))
	got := b.GetDocument(t, b.tenant, v1.ID)
	require.Equal(t, ragqueue.StatusProcessing, got.Status)
	require.Equal(t, 2, got.Version)

	close(gate.release)
	require.NoError(t, <-done)
	// Let the searcher see the new state for a while too.
	time.Sleep(50 * time.Millisecond)
	stop.Store(true)
	hammer.Wait()
	close(violations)
	for v := range violations {
		t.Error(v)
	}
	require.Positive(t, searches.Load())
	require.ElementsMatch(t, versionIDs(v2, 2, len(b.chunkTexts(t, v2, 2))), b.IndexedChunkIDs(t, b.tenant, v1.ID))
}

// versionOf names the version a chunk ID belongs to: "v1" when it is one of
// v1IDs, "new" otherwise.
func versionOf(chunkID string, v1IDs []string) string {
	for _, id := range v1IDs {
		if id == chunkID {
			return "v1"
		}
	}
	return "new"
}

// TestDeleteDuringNewVersion deletes a document whose second version is
// being embedded: neither version leaves chunks behind, and the job ends
// canceled.
func TestDeleteDuringNewVersion(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	rec := &recorder{}
	v1 := b.AddDocument(t, b.tenant, ingest.TypeText, longManual)
	require.NoError(t, runIngest(t, b.WorkerMux(b.Deps(rec)), rec, v1))

	d := b.Deps(rec)
	gate := &gatedEmbedder{Embedder: d.Embedder, entered: make(chan struct{}), release: make(chan struct{})}
	d.Embedder = gate
	d.EmbedParallelism = 1
	v2, _ := b.newVersion(t, v1, manualV2)
	v2Texts := []string{}
	done := make(chan error, 1)
	go func() { done <- runIngest(t, b.WorkerMux(d), rec, v2) }()
	select {
	case <-gate.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("embed never called the embedder")
	}
	v2Texts = b.chunkTexts(t, v2, 2)

	// What DELETE /v1/documents/{id} does.
	require.NoError(t, b.Index.DeleteDocument(t.Context(), b.tenant, v1.ID))
	blobs, err := b.Store.DeleteDocument(t.Context(), b.tenant, v1.ID)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{v1.BlobKey, v2.BlobKey}, blobs, "both versions' bytes are handed over")
	require.NoError(t, b.Index.DeleteDocument(t.Context(), b.tenant, v1.ID))
	close(gate.release)
	require.NoError(t, <-done)

	require.Empty(t, b.IndexedChunkIDs(t, b.tenant, v1.ID))
	hashes := make([]string, 0, 2*len(v2Texts))
	for _, text := range append(b.chunkTexts(t, v1, 1), v2Texts...) {
		hashes = append(hashes, retrieval.ContentHash(d.Embedder.Name(), text))
	}
	for _, text := range v2Texts {
		hashes = append(hashes, retrieval.ContentHash(d.Embedder.Name(), text))
	}
	left, err := b.Index.VectorsByHash(t.Context(), b.tenant, v1.ID, hashes)
	require.NoError(t, err)
	require.Empty(t, left, "staged chunks of the deleted version stayed in the index")
	require.Empty(t, b.chunkTexts(t, v1, 1))
	require.Empty(t, b.chunkTexts(t, v1, 2))
	require.Equal(t, "the document was deleted", b.canceledReason(t, v2.JobID))
}

// TestStaleJobIsCanceled: a task of a job that a newer version replaced
// does nothing, and its job says why instead of staying queued forever.
func TestStaleJobIsCanceled(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	rec := &recorder{}
	mux := b.WorkerMux(b.Deps(rec))
	v1 := b.AddDocument(t, b.tenant, ingest.TypeText, longManual)
	require.NoError(t, b.Store.SetDocumentStatus(t.Context(), b.tenant, v1.ID, 1, ragqueue.StatusFailed, "boom"))
	v2, released := b.newVersion(t, v1, manualV2)
	require.Equal(t, []string{v1.BlobKey}, released, "a version that never became ready has no bytes worth keeping")

	require.NoError(t, runIngest(t, mux, rec, v1)) // version 1's job, late
	require.Contains(t, b.canceledReason(t, v1.JobID), "superseded by version 2")
	job := b.GetJob(t, b.tenant, v2.JobID)
	require.Equal(t, ragqueue.StateQueued, job.State, "the current job is not touched")
	require.Empty(t, b.chunkTexts(t, v1, 1))
	got := b.GetDocument(t, b.tenant, v1.ID)
	require.Equal(t, ragqueue.StatusQueued, got.Status)

	// A job that already finished keeps its state.
	require.NoError(t, runIngest(t, mux, rec, v2))
	v3, _ := b.newVersion(t, v2, longManual+"\nA third version.")
	require.NoError(t, runIngest(t, mux, rec, v2))
	job = b.GetJob(t, b.tenant, v2.JobID)
	require.Equal(t, ragqueue.StateSucceeded, job.State)
	require.NotEqual(t, v2.JobID, v3.JobID)
}

// TestRetryEnqueuesAgain: a failed job's parse task stays archived in
// Asynq, so enqueueing the same job again does nothing; a retry is a new
// job, with a task of its own.
func TestRetryEnqueuesAgain(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, longManual)
	require.NoError(t, b.EnqueueIngest(t.Context(), doc))
	first := "ingest-parse-" + doc.ID + "-v1-" + doc.JobID
	require.NoError(t, b.Inspector.ArchiveTask(jobs.QueueIngest, first)) // as a final failure leaves it
	require.NoError(t, b.Store.SetDocumentStatus(t.Context(), b.tenant, doc.ID, 1, ragqueue.StatusFailed, "embedder down"))

	// The reconciler's view: the same job again is a no-op.
	require.NoError(t, b.EnqueueIngest(t.Context(), doc))
	pending, err := b.Inspector.ListPendingTasks(jobs.QueueIngest)
	require.NoError(t, err)
	require.Empty(t, pending)

	retried, err := b.Store.RetryDocument(t.Context(), b.tenant, doc.ID, 1, uuid.NewString())
	require.NoError(t, err)
	require.NoError(t, b.EnqueueIngest(t.Context(), retried))
	pending, err = b.Inspector.ListPendingTasks(jobs.QueueIngest)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.Equal(t, "ingest-parse-"+doc.ID+"-v1-"+retried.JobID, pending[0].ID)

	b.StartWorker(t, b.Deps(b.Asynq))
	job := b.WaitJob(t, b.tenant, retried.JobID)
	require.Equal(t, ragqueue.StateSucceeded, job.State, "error: %s", job.Error)
	got := b.GetDocument(t, b.tenant, doc.ID)
	require.Equal(t, ragqueue.StatusReady, got.Status)
	require.Empty(t, got.Error)
}

// flakyEmbedder fails every call after the first `ok` ones, for good
// (SkipRetry), as an embedding API rejecting a request does.
type flakyEmbedder struct {
	retrieval.Embedder
	ok    int
	calls atomic.Int64
}

func (f *flakyEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if int(f.calls.Add(1)) > f.ok {
		return nil, fmt.Errorf("%w: %w", ragqueue.Errorf(ragqueue.EINVALID, "embedder refused the batch"), asynq.SkipRetry)
	}
	return f.Embedder.Embed(ctx, texts)
}

// TestRetryReusesFinishedBatches: a retry of a job that failed halfway
// does not embed again what the failed attempt already embedded.
func TestRetryReusesFinishedBatches(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	rec := &recorder{}
	d := b.Deps(rec)
	d.EmbedParallelism = 1
	d.Embedder = &flakyEmbedder{Embedder: d.Embedder, ok: 1}
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, longManual)
	err := runIngest(t, b.WorkerMux(d), rec, doc)
	require.ErrorIs(t, err, asynq.SkipRetry)
	got := b.GetDocument(t, b.tenant, doc.ID)
	require.Equal(t, ragqueue.StatusFailed, got.Status)
	require.Contains(t, got.Error, "embedder refused")
	require.Empty(t, b.IndexedChunkIDs(t, b.tenant, doc.ID), "a failed version answers nothing")

	retried, err := b.Store.RetryDocument(t.Context(), b.tenant, doc.ID, 1, uuid.NewString())
	require.NoError(t, err)
	require.NoError(t, b.Store.CreateJob(t.Context(), ragqueue.Job{ID: retried.JobID, Tenant: b.tenant, Type: ragqueue.KindIngest}))
	d = b.Deps(rec)
	counter := &countingEmbedder{Embedder: d.Embedder}
	d.Embedder = counter
	require.NoError(t, runIngest(t, b.WorkerMux(d), rec, retried))
	texts := b.chunkTexts(t, doc, 1)
	require.Len(t, counter.Reset(), len(texts)-d.EmbedBatch, "the first batch was embedded by the failed attempt")
	job := b.GetJob(t, b.tenant, retried.JobID)
	require.Equal(t, ragqueue.StateSucceeded, job.State)
	var p ingestProgress
	require.NoError(t, json.Unmarshal(job.Progress, &p))
	require.Equal(t, d.EmbedBatch, p.ChunksReused)
	require.ElementsMatch(t, versionIDs(doc, 1, len(texts)), b.IndexedChunkIDs(t, b.tenant, doc.ID))
	old := b.GetJob(t, b.tenant, doc.JobID)
	require.Equal(t, ragqueue.StateFailed, old.State, "the failed job stays as it ended")
}
