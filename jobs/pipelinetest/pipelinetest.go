// Package pipelinetest assembles the worker's task handlers (documents,
// queries, webhooks) over a jobstest.Env from one Deps, as the tests of the
// feature packages run them end to end.
package pipelinetest

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/pdf"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/documents"
	"github.com/ragqueue/ragqueue/jobs/jobstest"
	"github.com/ragqueue/ragqueue/jobs/queries"
	"github.com/ragqueue/ragqueue/obs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Store is the metadata database as the handlers use it.
type Store interface {
	documents.Store
	ragqueue.JobStore
	ragqueue.ConversationStore
}

// Deps is what a test gives the worker's task handlers. Either Spaces or
// Index and Embedder are the embedding space.
type Deps struct {
	Store    Store
	Blobs    documents.BlobStore
	Spaces   *retrieval.SpaceSet
	Index    retrieval.Index
	Embedder retrieval.Embedder
	Chunker  ingest.Chunker
	PDF      documents.PDFParser
	// Enqueuer receives follow-up tasks (parse enqueues embed).
	Enqueuer          jobs.Enqueuer
	Logger            *slog.Logger
	MaxParseBytes     int64
	EmbedBatch        int
	EmbedParallelism  int
	InlineEmbedChunks int
	BatchEmbeds       bool
	BatchTexts        int
	Metrics           *obs.Pipeline
	Generator         retrieval.Generator
	Cache             *queries.AnswerCache
	TokenBudget       queries.TokenBudget
	QueryMaxURLs      int
	Fetcher           *web.Fetcher
	WebClient         *http.Client
	WebhookSecret     []byte
	Events            jobs.EventPublisher
}

// Defaults is the tests' usual Deps over e: the hash embedder of
// jobstest.Dim on e's index, the extractive generator, 300/30 chunks, the
// PDF parser on the test binary, several embed batches per document and a
// separate embed task always; enq receives follow-up tasks.
func Defaults(e *jobstest.Env, enq jobs.Enqueuer) Deps {
	return Deps{
		Store:     e.Store,
		Blobs:     e.Blobs,
		Index:     e.Index,
		Embedder:  retrieval.NewHashEmbedder(jobstest.Dim),
		Generator: retrieval.NewExtractive(),
		Chunker:   ingest.Chunker{Size: 300, Overlap: 30},
		PDF:       pdf.NewParser(jobstest.TestExe(), pdf.Limits{Timeout: 20 * time.Second}),
		Enqueuer:  enq,
		Logger:    e.Logger,
		// Several batches per document, so that batching and progress run.
		EmbedBatch: 3,
		// Stage tests drive the embed task themselves; TestInlineEmbed
		// covers small documents embedded by the parse task.
		InlineEmbedChunks: -1,
	}
}

// spaces is d's embedding space set.
func (d Deps) spaces() *retrieval.SpaceSet {
	if d.Spaces != nil {
		return d.Spaces
	}
	return retrieval.StaticSpaces(d.Embedder, d.Index)
}

// Tracker records d's jobs, publishing to d.Events.
func (d Deps) Tracker() *jobs.Tracker {
	return jobs.NewTracker(d.Store, d.Enqueuer, d.Events, d.Logger)
}

// Documents is the documents use case over d, enqueueing on client (nil:
// on d.Enqueuer, as the worker does).
func (d Deps) Documents(client *jobs.Client) *documents.Service {
	if client == nil {
		client = jobs.NewClient(d.Enqueuer, d.Store, d.Logger)
	}
	return documents.New(documents.Config{
		Store: d.Store, Blobs: d.Blobs, Spaces: d.spaces(), Chunker: d.Chunker, PDF: d.PDF,
		MaxParseBytes: d.MaxParseBytes, EmbedBatch: d.EmbedBatch, EmbedParallelism: d.EmbedParallelism,
		InlineEmbedChunks: d.InlineEmbedChunks, BatchEmbeds: d.BatchEmbeds, BatchTexts: d.BatchTexts,
		Client: client, Tracker: d.Tracker(), Metrics: d.Metrics, Logger: d.Logger,
	})
}

// Queries is the query use case over d, enqueueing on client (nil: on
// d.Enqueuer).
func (d Deps) Queries(client *jobs.Client) *queries.Service {
	if client == nil {
		client = jobs.NewClient(d.Enqueuer, d.Store, d.Logger)
	}
	return queries.New(queries.Config{
		Conversations: d.Store, Spaces: d.spaces(), Generator: d.Generator, Documents: d.Documents(nil),
		Fetcher: d.Fetcher, MaxURLs: d.QueryMaxURLs, Cache: d.Cache, TokenBudget: d.TokenBudget,
		Client: client, Tracker: d.Tracker(), Metrics: d.Metrics, Logger: d.Logger,
	})
}

// WorkerMux is the worker's mux over d: the documents' and queries' task
// handlers and the webhook delivery.
func (d Deps) WorkerMux() *asynq.ServeMux {
	mux := jobs.NewServeMux(d.Logger)
	d.Documents(nil).Register(mux)
	d.Queries(nil).Register(mux)
	jobs.RegisterWebhooks(mux, jobs.WebhookConfig{Jobs: d.Store, Client: d.WebClient, Secret: d.WebhookSecret, Logger: d.Logger})
	return mux
}

// EnqueueQuery asks question of tenant's documents with up to topK
// passages through client (the API side).
func EnqueueQuery(ctx context.Context, d Deps, client *jobs.Client, tenant, question string, topK int, urls ...string) (ragqueue.Job, error) {
	return d.Queries(client).Enqueue(ctx, jobs.QueryArgs{Tenant: tenant, Question: question, TopK: topK, URLs: urls})
}
