package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/pdf"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
	"github.com/ragqueue/ragqueue/storage/sqlite"
)

// dim is the embedding dimension of the tests' hash embedder and index.
const dim = 64

// env is the real pipeline around one Redis database: the SQLite store and
// index in a temp dir, file blobs, the hash embedder and the extractive
// generator. Test files embed it in their testBundle.
type env struct {
	redis     asynq.RedisClientOpt
	store     *sqlite.Store
	index     *sqlite.Index
	blobs     *storage.FileBlobs
	asynq     *asynq.Client
	inspector *asynq.Inspector
	client    *jobs.Client
	logger    *slog.Logger
}

// newEnv builds an env on redis.
func newEnv(t testing.TB, redis asynq.RedisClientOpt) *env {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "ragqueue.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	index, err := sqlite.NewIndex(ctx, db, dim)
	require.NoError(t, err)
	t.Cleanup(func() { _ = index.Close() })
	blobs, err := storage.NewFileBlobs(filepath.Join(dir, "blobs"))
	require.NoError(t, err)

	ac := asynq.NewClient(redis)
	t.Cleanup(func() { _ = ac.Close() })
	insp := asynq.NewInspector(redis)
	t.Cleanup(func() { _ = insp.Close() })
	logger := slog.New(slog.NewTextHandler(newTestWriter(t), &slog.HandlerOptions{Level: slog.LevelWarn}))
	store := sqlite.NewStore(db)
	return &env{
		redis:     redis,
		store:     store,
		index:     index,
		blobs:     blobs,
		asynq:     ac,
		inspector: insp,
		client:    jobs.NewClient(ac, store, logger),
		logger:    logger,
	}
}

// deps returns handler dependencies over the env; enq receives follow-up tasks.
func (e *env) deps(enq jobs.Enqueuer) jobs.Deps {
	return jobs.Deps{
		Store:     e.store,
		Blobs:     e.blobs,
		Index:     e.index,
		Embedder:  retrieval.NewHashEmbedder(dim),
		Generator: retrieval.NewExtractive(),
		Chunker:   ingest.Chunker{Size: 300, Overlap: 30},
		PDF:       pdf.NewParser(testExe, pdf.Limits{Timeout: 20 * time.Second}),
		Enqueuer:  enq,
		Logger:    e.logger,
		// Several batches per document, so that batching and progress run.
		EmbedBatch: 3,
		// Stage tests drive the embed task themselves; TestInlineEmbed
		// covers small documents embedded by the parse task.
		InlineEmbedChunks: -1,
	}
}

// startServer runs an Asynq server with NewMux(d) until the test ends.
func (e *env) startServer(t *testing.T, d jobs.Deps) {
	t.Helper()
	srv := jobs.NewServer(e.redis, jobs.ServerConfig{
		Concurrency:     4,
		Logger:          e.logger,
		ShutdownTimeout: 5 * time.Second,
		PollInterval:    20 * time.Millisecond,
	})
	require.NoError(t, srv.Start(jobs.NewMux(d)))
	t.Cleanup(srv.Shutdown)
}

// addDocument stores text as a new queued document (version 1) of tenant.
func (e *env) addDocument(t testing.TB, tenant, contentType, text string) ragqueue.Document {
	t.Helper()
	doc := e.addDocumentOnly(t, tenant, contentType, text)
	// What the API records with the document; EnqueueIngest would too.
	require.NoError(t, e.store.CreateJob(t.Context(), ragqueue.Job{ID: doc.JobID, Tenant: tenant, Type: ragqueue.KindIngest, State: ragqueue.StateQueued}))
	return doc
}

// addDocumentOnly is addDocument without the job record, which
// EnqueueIngest then creates (with its options).
func (e *env) addDocumentOnly(t testing.TB, tenant, contentType, text string) ragqueue.Document {
	t.Helper()
	info, err := e.blobs.Put(t.Context(), strings.NewReader(text), 0)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(text))
	doc, created, err := e.store.CreateDocument(t.Context(), ragqueue.Document{
		ID:          uuid.NewString(),
		Tenant:      tenant,
		Title:       "Field manual",
		Source:      "upload:manual.txt",
		ContentType: contentType,
		SHA256:      hex.EncodeToString(sum[:]),
		Size:        info.Size,
		BlobKey:     info.Key,
		Status:      ragqueue.StatusQueued,
		Version:     1,
		JobID:       uuid.NewString(),
	})
	require.NoError(t, err)
	require.True(t, created)
	return doc
}

// waitJob waits for a job to finish, failing the test after 30 s.
func (e *env) waitJob(t *testing.T, tenant, jobID string) ragqueue.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	job, err := e.client.Wait(ctx, tenant, jobID)
	require.NoError(t, err, "job %s last seen as %+v", jobID, job)
	return job
}

// getJob returns a job record, failing the test when it cannot.
func (e *env) getJob(t testing.TB, tenant, id string) ragqueue.Job {
	t.Helper()
	job, err := e.store.GetJob(t.Context(), tenant, id)
	require.NoError(t, err)
	return job
}

// getDocument returns a document, failing the test when it cannot.
func (e *env) getDocument(t testing.TB, tenant, id string) ragqueue.Document {
	t.Helper()
	doc, err := e.store.GetDocument(t.Context(), tenant, id)
	require.NoError(t, err)
	return doc
}

// indexedChunkIDs lists the IDs the index holds for a document (up to 100).
func (e *env) indexedChunkIDs(t *testing.T, tenant, docID string) []string {
	t.Helper()
	vecs, err := retrieval.NewHashEmbedder(dim).Embed(t.Context(), []string{"anything"})
	require.NoError(t, err)
	ps, err := retrieval.Search(t.Context(), e.index, retrieval.Query{
		Tenant: tenant, Text: "anything", Vector: vecs[0], TopK: 100, DocumentIDs: []string{docID},
	})
	require.NoError(t, err)
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ChunkID
	}
	return ids
}

// manual is a text document long enough for several chunks, with facts to
// ask about.
const manual = `Zephyr pump maintenance.

The Zephyr pump needs its pressure valve calibrated every month. Calibration takes about twenty minutes and needs the blue torque wrench.

Filters are replaced every quarter. A clogged filter makes the pump whine at high pitch, which is the most common complaint from operators.

The warranty covers the motor for five years and the impeller for two years. Damage from running the pump dry is never covered.

Storage in winter: drain the housing completely, because frozen water cracks the impeller casing. Keep the pump above five degrees Celsius.

Error code E42 means the flow sensor is disconnected. Reseat the connector under the front panel before calling support.`

// recorder is an Enqueuer that keeps tasks instead of queueing them, for
// running handlers one at a time.
type recorder struct {
	mu    sync.Mutex
	tasks []*asynq.Task
}

func (r *recorder) EnqueueContext(_ context.Context, t *asynq.Task, _ ...asynq.Option) (*asynq.TaskInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tasks = append(r.tasks, t)
	return &asynq.TaskInfo{ID: uuid.NewString(), Type: t.Type()}, nil
}

func (r *recorder) taken() []*asynq.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*asynq.Task(nil), r.tasks...)
}

// countingEmbedder records every text it is asked to embed, and how many
// texts each call carried.
type countingEmbedder struct {
	retrieval.Embedder
	mu    sync.Mutex
	texts []string
	sizes []int
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.mu.Lock()
	c.texts = append(c.texts, texts...)
	c.sizes = append(c.sizes, len(texts))
	c.mu.Unlock()
	return c.Embedder.Embed(ctx, texts)
}

// reset forgets what was counted and returns the texts.
func (c *countingEmbedder) reset() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	texts := c.texts
	c.texts, c.sizes = nil, nil
	return texts
}

// callSizes returns how many texts each call carried.
func (c *countingEmbedder) callSizes() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sizes)
}

// testWriter sends log lines to t.Log, so that they show with failures
// only; lines written after the test ended are dropped.
type testWriter struct {
	t    testing.TB
	mu   sync.Mutex
	done bool
}

func newTestWriter(t testing.TB) *testWriter {
	w := &testWriter{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		w.done = true
	})
	return w
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
