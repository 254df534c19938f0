// Package jobstest is the real job pipeline around one Redis database, for
// the tests of jobs and its feature packages: the SQLite store and index in a
// temp dir, file blobs, the hash embedder, and fakes of the queue, the
// embedder and the event stream.
package jobstest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/storage"
	"github.com/ragqueue/ragqueue/storage/sqlite"
)

// Dim is the embedding dimension of the tests' hash embedder and index.
const Dim = 64

// Env is the real pipeline around one Redis database: the SQLite store and
// index in a temp dir, file blobs and a jobs.Client on the real queue. Test
// files embed it in their testBundle.
type Env struct {
	Redis     asynq.RedisClientOpt
	Store     *sqlite.Store
	Index     *sqlite.Index
	Blobs     *storage.FileBlobs
	Asynq     *asynq.Client
	Inspector *asynq.Inspector
	Client    *jobs.Client
	Logger    *slog.Logger
}

// NewEnv builds an Env on redis; everything is closed when the test ends.
func NewEnv(t testing.TB, redis asynq.RedisClientOpt) *Env {
	t.Helper()
	ctx := t.Context()
	dir := t.TempDir()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "ragqueue.db"))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	index, err := sqlite.NewIndex(ctx, db, Dim)
	require.NoError(t, err)
	t.Cleanup(func() { _ = index.Close() })
	blobs, err := storage.NewFileBlobs(filepath.Join(dir, "blobs"))
	require.NoError(t, err)

	ac := asynq.NewClient(redis)
	t.Cleanup(func() { _ = ac.Close() })
	insp := asynq.NewInspector(redis)
	t.Cleanup(func() { _ = insp.Close() })
	logger := Logger(t)
	store := sqlite.NewStore(db)
	return &Env{
		Redis:     redis,
		Store:     store,
		Index:     index,
		Blobs:     blobs,
		Asynq:     ac,
		Inspector: insp,
		Client:    jobs.NewClient(ac, store, logger),
		Logger:    logger,
	}
}

// Spaces is the one fixed embedding space of emb (nil: the hash embedder
// of Dim) over the env's index.
func (e *Env) Spaces(emb retrieval.Embedder) *retrieval.SpaceSet {
	if emb == nil {
		emb = retrieval.NewHashEmbedder(Dim)
	}
	return retrieval.StaticSpaces(emb, e.Index)
}

// Tracker is a job tracker over the env's store, enqueueing webhooks on enq
// and publishing events to ev (nil: none).
func (e *Env) Tracker(enq jobs.Enqueuer, ev jobs.EventPublisher) *jobs.Tracker {
	return jobs.NewTracker(e.Store, enq, ev, e.Logger)
}

// StartServer runs an Asynq server with mux until the test ends.
func (e *Env) StartServer(t *testing.T, mux *asynq.ServeMux) {
	t.Helper()
	srv := jobs.NewServer(e.Redis, jobs.ServerConfig{
		Concurrency:     4,
		Logger:          e.Logger,
		ShutdownTimeout: 5 * time.Second,
		PollInterval:    20 * time.Millisecond,
	})
	require.NoError(t, srv.Start(mux))
	t.Cleanup(srv.Shutdown)
}

// AddDocument stores text as a new queued document (version 1) of tenant.
func (e *Env) AddDocument(t testing.TB, tenant, contentType, text string) ragqueue.Document {
	t.Helper()
	doc := e.AddDocumentOnly(t, tenant, contentType, text)
	// What the API records with the document; EnqueueIngest would too.
	require.NoError(t, e.Store.CreateJob(t.Context(), ragqueue.Job{ID: doc.JobID, Tenant: tenant, Type: ragqueue.KindIngest, State: ragqueue.StateQueued}))
	return doc
}

// AddDocumentOnly is AddDocument without the job record, which
// EnqueueIngest then creates (with its options).
func (e *Env) AddDocumentOnly(t testing.TB, tenant, contentType, text string) ragqueue.Document {
	t.Helper()
	info, err := e.Blobs.Put(t.Context(), strings.NewReader(text), 0)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(text))
	doc, created, err := e.Store.CreateDocument(t.Context(), ragqueue.Document{
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

// WaitJob waits for a job to finish, failing the test after 30 s.
func (e *Env) WaitJob(t *testing.T, tenant, jobID string) ragqueue.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	job, err := e.Client.Wait(ctx, tenant, jobID)
	require.NoError(t, err, "job %s last seen as %+v", jobID, job)
	return job
}

// GetJob returns a job record, failing the test when it cannot.
func (e *Env) GetJob(t testing.TB, tenant, id string) ragqueue.Job {
	t.Helper()
	job, err := e.Store.GetJob(t.Context(), tenant, id)
	require.NoError(t, err)
	return job
}

// GetDocument returns a document, failing the test when it cannot.
func (e *Env) GetDocument(t testing.TB, tenant, id string) ragqueue.Document {
	t.Helper()
	doc, err := e.Store.GetDocument(t.Context(), tenant, id)
	require.NoError(t, err)
	return doc
}

// IndexedChunkIDs lists the IDs the index holds for a document (up to 100).
func (e *Env) IndexedChunkIDs(t *testing.T, tenant, docID string) []string {
	t.Helper()
	vecs, err := retrieval.NewHashEmbedder(Dim).Embed(t.Context(), []string{"anything"})
	require.NoError(t, err)
	ps, err := retrieval.Search(t.Context(), e.Index, retrieval.Query{
		Tenant: tenant, Text: "anything", Vector: vecs[0], TopK: 100, DocumentIDs: []string{docID},
	})
	require.NoError(t, err)
	ids := make([]string, len(ps))
	for i, p := range ps {
		ids[i] = p.ChunkID
	}
	return ids
}
