package jobs

import (
	"context"

	"github.com/ragqueue/ragqueue/ingest"
)

// DocumentFilter selects documents for a listing. Cursor is opaque to
// callers: it is the NextCursor of the previous page.
type DocumentFilter struct {
	Status ingest.Status // "" for any
	Limit  int
	Cursor string
}

// DocumentStore is the part of the metadata database the pipeline needs for
// documents. Every method is scoped to a tenant except the reconciler's.
type DocumentStore interface {
	// CreateDocument inserts d unless the tenant already has a document with
	// the same SHA256; then it returns that one and created=false. Safe under
	// concurrent calls with the same bytes: exactly one document results.
	CreateDocument(ctx context.Context, d ingest.Document) (doc ingest.Document, created bool, err error)
	GetDocument(ctx context.Context, tenant, id string) (ingest.Document, error)
	ListDocuments(ctx context.Context, tenant string, f DocumentFilter) (docs []ingest.Document, nextCursor string, err error)
	// SetDocumentStatus moves a document to status, recording errMsg, and
	// only if its version is still version (a newer upload or a delete wins).
	// It returns ENOTFOUND when no such document/version exists.
	SetDocumentStatus(ctx context.Context, tenant, id string, version int, status ingest.Status, errMsg string) error
	// SetDocumentCounts records pages and chunks for a document version.
	SetDocumentCounts(ctx context.Context, tenant, id string, version, pages, chunks int) error
	// SetDocumentTitle replaces the title of a document version, e.g. with
	// the <title> found by parsing an uploaded HTML file.
	SetDocumentTitle(ctx context.Context, tenant, id string, version int, title string) error
	// DeleteDocument removes the document and its stored chunks.
	DeleteDocument(ctx context.Context, tenant, id string) error
	// UnfinishedDocuments lists documents in queued or processing across all
	// tenants, oldest first, for the reconciler.
	UnfinishedDocuments(ctx context.Context, limit int) ([]ingest.Document, error)
}

// ChunkStore keeps chunk text in the metadata database so that embedding can
// be retried, and an index rebuilt, without parsing again.
type ChunkStore interface {
	// ReplaceChunks atomically replaces the chunks of one document version.
	ReplaceChunks(ctx context.Context, tenant, documentID string, version int, chunks []ingest.Chunk) error
	ListChunks(ctx context.Context, tenant, documentID string, version int) ([]ingest.Chunk, error)
}

// JobStore keeps the client-visible job records.
type JobStore interface {
	CreateJob(ctx context.Context, j Job) error
	GetJob(ctx context.Context, tenant, id string) (Job, error)
	UpdateJob(ctx context.Context, tenant, id string, u JobUpdate) error
	// UnfinishedJobs lists jobs that are not terminal, across tenants.
	UnfinishedJobs(ctx context.Context, limit int) ([]Job, error)
}

// Store is everything the jobs layer needs from the metadata database.
type Store interface {
	DocumentStore
	ChunkStore
	JobStore
}
