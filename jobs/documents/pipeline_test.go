package documents_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

type pipelineBundle struct {
	*env
	tenant string
}

func setupPipeline(t *testing.T) *pipelineBundle {
	t.Helper()
	return &pipelineBundle{env: newEnv(t, redisServer.NewDB(t)), tenant: "acme"}
}

func TestIngestEndToEnd(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	b.StartWorker(t, b.Deps(b.Asynq))
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)

	require.NoError(t, b.EnqueueIngest(t.Context(), doc))
	job := b.WaitJob(t, b.tenant, doc.JobID)
	require.Equal(t, ragqueue.StateSucceeded, job.State, "error: %s", job.Error)
	require.Equal(t, ragqueue.KindIngest, job.Type)

	got := b.GetDocument(t, b.tenant, doc.ID)
	require.Equal(t, ragqueue.StatusReady, got.Status)
	chunks, err := b.Store.ListChunks(t.Context(), b.tenant, doc.ID, 1)
	require.NoError(t, err)
	require.Greater(t, len(chunks), 2, "the manual should make several chunks")
	require.Equal(t, len(chunks), got.Chunks)
	require.Equal(t, 0, got.Pages)

	var res struct {
		DocumentID string `json:"document_id"`
		Chunks     int    `json:"chunks"`
	}
	require.NoError(t, json.Unmarshal(job.Result, &res))
	require.Equal(t, doc.ID, res.DocumentID)
	require.Equal(t, len(chunks), res.Chunks)
	var progress struct {
		Stage          string `json:"stage"`
		Chunks         int    `json:"chunks"`
		ChunksEmbedded int    `json:"chunks_embedded"`
	}
	require.NoError(t, json.Unmarshal(job.Progress, &progress))
	require.Equal(t, len(chunks), progress.ChunksEmbedded)

	require.Len(t, b.IndexedChunkIDs(t, b.tenant, doc.ID), len(chunks))
	vec, err := retrieval.NewHashEmbedder(dim).Embed(t.Context(), []string{"impeller warranty"})
	require.NoError(t, err)
	hits, err := retrieval.Search(t.Context(), b.Index, retrieval.Query{Tenant: b.tenant, Text: "impeller warranty", Vector: vec[0], TopK: 3})
	require.NoError(t, err)
	require.NotEmpty(t, hits)
	require.Equal(t, doc.ID, hits[0].DocumentID)
	require.Equal(t, "Field manual", hits[0].Title)
	require.Equal(t, "upload:manual.txt", hits[0].Source)
}

// TestInlineEmbed: a document that fits one embedding batch is embedded by
// its parse task; no embed task is enqueued.
func TestInlineEmbed(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	rec := &recorder{}
	d := b.Deps(rec)
	d.InlineEmbedChunks = 0 // default: one batch
	d.EmbedBatch = 64
	mux := b.WorkerMux(d)
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	parse, err := jobs.NewTask(jobs.ParseArgs{Tenant: b.tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: 1})
	require.NoError(t, err)
	require.NoError(t, mux.ProcessTask(t.Context(), parse))
	require.Empty(t, rec.Taken(), "no embed task for a small document")

	got := b.GetDocument(t, b.tenant, doc.ID)
	require.Equal(t, ragqueue.StatusReady, got.Status)
	require.Len(t, b.IndexedChunkIDs(t, b.tenant, doc.ID), got.Chunks)
	job := b.GetJob(t, b.tenant, doc.JobID)
	require.Equal(t, ragqueue.StateSucceeded, job.State)

	// At-least-once: running it again changes nothing.
	require.NoError(t, mux.ProcessTask(t.Context(), parse))
	require.Len(t, b.IndexedChunkIDs(t, b.tenant, doc.ID), got.Chunks)
}

// TestParseTwice runs both handlers twice for the same document version, as
// at-least-once delivery may: the chunks are replaced, not duplicated.
func TestParseTwice(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	rec := &recorder{}
	mux := b.WorkerMux(b.Deps(rec))
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	parse, err := jobs.NewTask(jobs.ParseArgs{Tenant: b.tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: 1})
	require.NoError(t, err)

	require.NoError(t, mux.ProcessTask(t.Context(), parse))
	first, err := b.Store.ListChunks(t.Context(), b.tenant, doc.ID, 1)
	require.NoError(t, err)
	require.NoError(t, mux.ProcessTask(t.Context(), parse))
	second, err := b.Store.ListChunks(t.Context(), b.tenant, doc.ID, 1)
	require.NoError(t, err)
	require.Equal(t, first, second)

	embeds := rec.Taken()
	require.Len(t, embeds, 2)
	require.Equal(t, jobs.TaskEmbed, embeds[0].Type())
	require.NoError(t, mux.ProcessTask(t.Context(), embeds[0]))
	require.NoError(t, mux.ProcessTask(t.Context(), embeds[1]))

	ids := b.IndexedChunkIDs(t, b.tenant, doc.ID)
	require.Len(t, ids, len(first))
	want := make([]string, len(first))
	for i, c := range first {
		want[i] = c.ID
		require.Equal(t, ingest.ChunkID(b.tenant, doc.ID, 1, i), c.ID)
	}
	require.ElementsMatch(t, want, ids)
	got := b.GetDocument(t, b.tenant, doc.ID)
	require.Equal(t, ragqueue.StatusReady, got.Status)
	require.Equal(t, len(first), got.Chunks)
}

// gatedEmbedder blocks its first Embed call until released.
type gatedEmbedder struct {
	retrieval.Embedder
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

func (g *gatedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	first := false
	g.once.Do(func() { first = true })
	if first {
		close(g.entered)
		select {
		case <-g.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return g.Embedder.Embed(ctx, texts)
}

func TestDeleteDuringEmbed(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	rec := &recorder{}
	d := b.Deps(rec)
	gate := &gatedEmbedder{Embedder: d.Embedder, entered: make(chan struct{}), release: make(chan struct{})}
	d.Embedder = gate
	d.EmbedParallelism = 1 // the other batches wait behind the gated one
	mux := b.WorkerMux(d)
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	parse, err := jobs.NewTask(jobs.ParseArgs{Tenant: b.tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: 1})
	require.NoError(t, err)
	require.NoError(t, mux.ProcessTask(t.Context(), parse))
	require.Len(t, rec.Taken(), 1)

	done := make(chan error, 1)
	go func() { done <- mux.ProcessTask(t.Context(), rec.Taken()[0]) }()
	select {
	case <-gate.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("embed never called the embedder")
	}
	// What DELETE /v1/documents/{id} does, while the batches are in flight.
	_, err = b.Store.DeleteDocument(t.Context(), b.tenant, doc.ID)
	require.NoError(t, err)
	require.NoError(t, b.Index.DeleteDocument(t.Context(), b.tenant, doc.ID))
	close(gate.release)
	require.NoError(t, <-done)

	require.Empty(t, b.IndexedChunkIDs(t, b.tenant, doc.ID), "vectors of a deleted document were left in the index")
	require.Equal(t, "the document was deleted", b.canceledReason(t, doc.JobID))
}

// canceledReason requires that job jobID of b's tenant was canceled, and
// returns the reason the job gives.
func (b *pipelineBundle) canceledReason(t *testing.T, jobID string) string {
	t.Helper()
	job := b.GetJob(t, b.tenant, jobID)
	require.Equal(t, ragqueue.StateCanceled, job.State, "a client polling the job learns it ended")
	return job.Error
}

// TestEmbedAfterDelete covers a retried embed whose document is gone: an
// earlier attempt's vectors are removed.
func TestEmbedAfterDelete(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	rec := &recorder{}
	mux := b.WorkerMux(b.Deps(rec))
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	require.NoError(t, b.Index.Upsert(t.Context(), []retrieval.IndexedChunk{{
		ID: ingest.ChunkID(b.tenant, doc.ID, 1, 0), Tenant: b.tenant, DocumentID: doc.ID, Text: "left over", Vector: make([]float32, dim),
	}}))
	_, err := b.Store.DeleteDocument(t.Context(), b.tenant, doc.ID)
	require.NoError(t, err)
	embed, err := jobs.NewTask(jobs.EmbedArgs{Tenant: b.tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: 1})
	require.NoError(t, err)
	require.NoError(t, mux.ProcessTask(t.Context(), embed))
	require.Empty(t, b.IndexedChunkIDs(t, b.tenant, doc.ID))
}

func TestStaleVersionIsSkipped(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	rec := &recorder{}
	mux := b.WorkerMux(b.Deps(rec))
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	for _, args := range []jobs.Args{
		jobs.ParseArgs{Tenant: b.tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: 2},
		jobs.EmbedArgs{Tenant: b.tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: 2},
		jobs.ParseArgs{Tenant: b.tenant, DocumentID: "no-such-document", JobID: doc.JobID, Version: 1},
	} {
		task, err := jobs.NewTask(args)
		require.NoError(t, err)
		require.NoError(t, mux.ProcessTask(t.Context(), task))
	}
	require.Empty(t, rec.Taken())
	got := b.GetDocument(t, b.tenant, doc.ID)
	require.Equal(t, ragqueue.StatusQueued, got.Status)
}

func TestInputErrorRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, contentType, text, message string
	}{
		{"NoText", ingest.TypeText, " \n\n \t ", "no text"},
		{"Unsupported", ingest.TypePDF, "%PDF-1.7 not really", "PDF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupPipeline(t)
			b.StartWorker(t, b.Deps(b.Asynq))
			doc := b.AddDocument(t, b.tenant, tt.contentType, tt.text)
			require.NoError(t, b.EnqueueIngest(t.Context(), doc))

			job := b.WaitJob(t, b.tenant, doc.JobID)
			require.Equal(t, ragqueue.StateFailed, job.State)
			require.Contains(t, job.Error, tt.message)
			got := b.GetDocument(t, b.tenant, doc.ID)
			require.Equal(t, ragqueue.StatusRejected, got.Status)
			require.Equal(t, job.Error, got.Error)

			// Archived at the first attempt, never retried.
			require.Eventually(t, func() bool {
				archived, err := b.Inspector.ListArchivedTasks(jobs.QueueIngest)
				return err == nil && len(archived) == 1 && archived[0].Retried == 0
			}, 10*time.Second, 10*time.Millisecond)
		})
	}
}

// failingEmbedder always fails, as an embedding API that is down does.
type failingEmbedder struct{ retrieval.Embedder }

func (failingEmbedder) Embed(context.Context, []string) ([][]float32, error) {
	return nil, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "embedder down: connection refused")
}

func TestFailingEmbedderRetriesThenFails(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	d := b.Deps(b.Asynq)
	d.Embedder = failingEmbedder{d.Embedder}
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)

	// Parse for real, then run the embedding through Asynq with a single
	// retry so that the test sees both the retrying and the failed state.
	rec := &recorder{}
	parseDeps := d
	parseDeps.Enqueuer = rec
	parse, err := jobs.NewTask(jobs.ParseArgs{Tenant: b.tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: 1})
	require.NoError(t, err)
	require.NoError(t, b.WorkerMux(parseDeps).ProcessTask(t.Context(), parse))
	embed, err := jobs.NewTask(jobs.EmbedArgs{Tenant: b.tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: 1}, asynq.MaxRetry(1))
	require.NoError(t, err)
	_, err = b.Asynq.EnqueueContext(t.Context(), embed)
	require.NoError(t, err)
	b.StartWorker(t, d)

	require.Eventually(t, func() bool {
		job, err := b.Store.GetJob(t.Context(), b.tenant, doc.JobID)
		return err == nil && job.State == ragqueue.StateRetrying
	}, 10*time.Second, 5*time.Millisecond, "the job never showed as retrying")
	job := b.GetJob(t, b.tenant, doc.JobID)
	require.Contains(t, job.Error, "embedder down")
	got := b.GetDocument(t, b.tenant, doc.ID)
	require.Equal(t, ragqueue.StatusProcessing, got.Status, "a retrying document is still processing")

	job = b.WaitJob(t, b.tenant, doc.JobID)
	require.Equal(t, ragqueue.StateFailed, job.State)
	require.Contains(t, job.Error, "embedder down: connection refused")
	got, err = b.Store.GetDocument(t.Context(), b.tenant, doc.ID)
	require.NoError(t, err)
	require.Equal(t, ragqueue.StatusFailed, got.Status)
	require.Contains(t, got.Error, "embedder down")
}

func TestEnqueueIngestTwice(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	doc := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	require.NoError(t, b.EnqueueIngest(t.Context(), doc))
	require.NoError(t, b.EnqueueIngest(t.Context(), doc))

	pending, err := b.Inspector.ListPendingTasks(jobs.QueueIngest)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.Equal(t, "ingest-parse-"+doc.ID+"-v1-"+doc.JobID, pending[0].ID)
	require.Equal(t, jobs.TaskParse, pending[0].Type)
	job := b.GetJob(t, b.tenant, doc.JobID)
	require.Equal(t, ragqueue.StateQueued, job.State)
	require.Equal(t, ragqueue.KindIngest, job.Type)
}

func TestReconcileRequeuesLostTask(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	queued := b.AddDocument(t, b.tenant, ingest.TypeText, manual)
	other := b.AddDocument(t, "globex", ingest.TypeText, manual+"\nAppendix.")
	require.NoError(t, b.EnqueueIngest(t.Context(), queued))
	require.NoError(t, b.EnqueueIngest(t.Context(), other))

	// Redis loses everything, as an unpersisted Redis does on restart.
	require.NoError(t, redistest.Flush(t.Context(), b.Redis))
	_, err := b.Inspector.ListPendingTasks(jobs.QueueIngest)
	require.ErrorIs(t, err, asynq.ErrQueueNotFound)

	// Reconcile runs at start, with a new client. (A long-lived asynq.Client
	// would not re-register the queue name that the flush removed: the
	// tasks would run, but the inspector and asynqmon would not list them.)
	ac := asynq.NewClient(b.Redis)
	t.Cleanup(func() { _ = ac.Close() })
	client := jobs.NewClient(ac, b.Store, b.Logger)
	n, err := jobs.Reconcile(t.Context(), b.Deps(b.Asynq).Documents(client).ReconcilePass)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	// Still queued: a second pass adds nothing.
	n, err = jobs.Reconcile(t.Context(), b.Deps(b.Asynq).Documents(client).ReconcilePass)
	require.NoError(t, err)
	require.Zero(t, n)
	pending, err := b.Inspector.ListPendingTasks(jobs.QueueIngest)
	require.NoError(t, err)
	require.Len(t, pending, 2)

	b.StartWorker(t, b.Deps(b.Asynq))
	for _, doc := range []ragqueue.Document{queued, other} {
		require.Equal(t, ragqueue.StateSucceeded, b.WaitJob(t, doc.Tenant, doc.JobID).State)
		got := b.GetDocument(t, doc.Tenant, doc.ID)
		require.Equal(t, ragqueue.StatusReady, got.Status)
	}
	// Nothing is unfinished any more.
	n, err = jobs.Reconcile(t.Context(), b.Deps(b.Asynq).Documents(client).ReconcilePass)
	require.NoError(t, err)
	require.Zero(t, n)
}

// TestPeriodicReconcileSparesRecentProcessing checks the periodic pass:
// a lost queued document is enqueued again at once, a document in
// processing only once it has been there longer than the grace period.
func TestPeriodicReconcileSparesRecentProcessing(t *testing.T) {
	t.Parallel()
	b := setupPipeline(t)
	b.AddDocument(t, b.tenant, ingest.TypeText, manual) // queued, its task lost
	busy := b.AddDocument(t, b.tenant, ingest.TypeText, manual+"\nAnother appendix.")
	require.NoError(t, b.Store.SetDocumentStatus(t.Context(), b.tenant, busy.ID, busy.Version, ragqueue.StatusProcessing, ""))

	n, err := b.Deps(b.Asynq).Documents(b.Client).ReconcilePass(t.Context(), time.Hour)
	require.NoError(t, err)
	require.Equal(t, 1, n, "only the queued document: the other changed moments ago")
	pending, err := b.Inspector.ListPendingTasks(jobs.QueueIngest)
	require.NoError(t, err)
	require.Len(t, pending, 1)

	n, err = b.Deps(b.Asynq).Documents(b.Client).ReconcilePass(t.Context(), time.Nanosecond)
	require.NoError(t, err)
	require.Equal(t, 1, n, "past the grace period the processing document is enqueued; the queued one already is")
}
