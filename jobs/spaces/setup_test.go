package spaces_test

import (
	"testing"
	"time"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/pdf"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/jobstest"
	"github.com/ragqueue/ragqueue/jobs/spaces"
	"github.com/ragqueue/ragqueue/retrieval"
)

// env is the shared test env.
type env struct{ *jobstest.Env }

// pipelineBundle is the real pipeline around one Redis database, for one
// tenant.
type pipelineBundle struct {
	*env
	tenant string
}

func setupPipeline(t *testing.T) *pipelineBundle {
	t.Helper()
	return &pipelineBundle{env: &env{jobstest.NewEnv(t, redisServer.NewDB(t))}, tenant: "acme"}
}

// deps returns handler dependencies over the env; enq receives follow-up tasks.
func (e *env) deps(enq jobs.Enqueuer) jobs.Deps {
	return jobs.Deps{
		Store:             e.Store,
		Blobs:             e.Blobs,
		Index:             e.Index,
		Embedder:          retrieval.NewHashEmbedder(jobstest.Dim),
		Chunker:           ingest.Chunker{Size: 300, Overlap: 30},
		PDF:               pdf.NewParser(jobstest.TestExe(), pdf.Limits{Timeout: 20 * time.Second}),
		Enqueuer:          enq,
		Logger:            e.Logger,
		EmbedBatch:        3,
		InlineEmbedChunks: -1,
	}
}

// service is the re-indexing use case over d (its Spaces set), building
// target embedders with factory.
func (e *env) service(d jobs.Deps, factory retrieval.EmbedderFactory) *spaces.Service {
	client := jobs.NewClient(d.Enqueuer, d.Store, e.Logger)
	tracker := jobs.NewTracker(d.Store, d.Enqueuer, d.Events, e.Logger)
	ing := jobs.NewIngestion(jobs.IngestionConfig{
		Store: d.Store, Blobs: d.Blobs, Spaces: d.Spaces, EmbedBatch: d.EmbedBatch,
		Client: client, Tracker: tracker, Logger: e.Logger,
	})
	return spaces.New(spaces.Config{
		Spaces: d.Spaces, Factory: factory, Documents: ing,
		Client: client, Tracker: tracker, Logger: e.Logger,
	})
}

// startServer runs an Asynq server with NewMux(d) and svc's handler until
// the test ends.
func (e *env) startServer(t *testing.T, d jobs.Deps, svc *spaces.Service) {
	t.Helper()
	mux := jobs.NewMux(d)
	svc.Register(mux)
	e.StartServer(t, mux)
}
