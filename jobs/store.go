package jobs

import (
	"context"

	"github.com/ragqueue/ragqueue"
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
	// An empty ID gets a new one, an empty Status is queued, zero times are
	// now and nil Metadata is {}; the stored row is what comes back.
	CreateDocument(ctx context.Context, d ingest.Document) (doc ingest.Document, created bool, err error)
	GetDocument(ctx context.Context, tenant, id string) (ingest.Document, error)
	// DocumentBySource returns the tenant's document whose Source is source
	// (a page's normalised URL, say), the most recently created one when
	// several share it; ENOTFOUND when none does.
	DocumentBySource(ctx context.Context, tenant, source string) (ingest.Document, error)
	ListDocuments(ctx context.Context, tenant string, f DocumentFilter) (docs []ingest.Document, nextCursor string, err error)
	// SetDocumentStatus moves a document to status, recording errMsg, and
	// only if its version is still version (a newer upload or a delete wins).
	// It returns ENOTFOUND when no such document/version exists.
	SetDocumentStatus(ctx context.Context, tenant, id string, version int, status ingest.Status, errMsg string) error
	// SetDocumentTitle replaces the title of a document version, e.g. with
	// the <title> found by parsing an uploaded HTML file.
	SetDocumentTitle(ctx context.Context, tenant, id string, version int, title string) error
	// NewVersion gives document id new content, as version expectVersion+1,
	// only if it is still at expectVersion (compare-and-set; otherwise
	// ECONFLICT, or ENOTFOUND when it is gone). It takes next's Title,
	// Source, ContentType, SHA256, Size, BlobKey and JobID, and its Metadata
	// unless that is nil (then the metadata stays). The new version is
	// queued, without error, pages or chunks. SHA256 stays unique per
	// tenant: bytes another document of the tenant holds are ECONFLICT with
	// a message naming that document. The bytes of the document's last
	// ready version are kept (they answer until the new version is ready,
	// see CompleteVersion); released lists the blob keys nothing refers to
	// any more, for the caller to delete.
	NewVersion(ctx context.Context, tenant, id string, expectVersion int, next ingest.Document) (doc ingest.Document, released []string, err error)
	// RetryDocument queues version of a failed document again under a new
	// job: status queued, error cleared, job_id jobID. ECONFLICT when the
	// document is not failed at that version, ENOTFOUND when it is gone.
	RetryDocument(ctx context.Context, tenant, id string, version int, jobID string) (ingest.Document, error)
	// CompleteVersion marks version ready, with note as its error field (""
	// for none; a warning such as "no text layer" otherwise), and deletes the
	// stored chunks of the document's older versions, in one transaction,
	// only if the document is still at version (ENOTFOUND otherwise). It
	// returns the blob key of the previous ready version, which nothing
	// answers from any more ("" when none); running it again returns the
	// same key, so a retried job can still delete those bytes.
	CompleteVersion(ctx context.Context, tenant, id string, version int, note string) (replacedBlob string, err error)
	// DeleteDocument removes the document and its stored chunks (every
	// version) and returns the blob keys it held, for the caller to delete.
	DeleteDocument(ctx context.Context, tenant, id string) (blobKeys []string, err error)
	// UnfinishedDocuments lists documents in queued or processing across all
	// tenants, oldest first, for the reconciler.
	UnfinishedDocuments(ctx context.Context, limit int) ([]ingest.Document, error)
	// ReadyDocuments lists ready documents across all tenants in ID order,
	// those with an ID after after, at most limit (≤ 0: 100), for a re-index
	// to walk every document.
	ReadyDocuments(ctx context.Context, after string, limit int) ([]ingest.Document, error)
}

// ErrStoreUnavailable is what a Store returns (wrapped) while the metadata
// database cannot be reached. A task failing with it is retried without
// spending its retries: an outage of the database is nobody's fault and
// its documents must not end failed, or stuck, for it.
var ErrStoreUnavailable = ragqueue.Errorf(ragqueue.EUNAVAILABLE, "the metadata database is unavailable; try again shortly")

// ChunkStore keeps chunk text in the metadata database so that embedding can
// be retried, and an index rebuilt, without parsing again.
type ChunkStore interface {
	// ReplaceChunks atomically replaces the chunks of one document version
	// and records the version's counts: pages, and len(chunks) chunks. It
	// returns ENOTFOUND when no such document/version exists.
	ReplaceChunks(ctx context.Context, tenant, documentID string, version, pages int, chunks []ingest.Chunk) error
	ListChunks(ctx context.Context, tenant, documentID string, version int) ([]ingest.Chunk, error)
}

// JobStore keeps the client-visible job records.
type JobStore interface {
	// CreateJob inserts j; a job with j.ID already there is left as it is,
	// without error (idempotent).
	CreateJob(ctx context.Context, j Job) error
	GetJob(ctx context.Context, tenant, id string) (Job, error)
	UpdateJob(ctx context.Context, tenant, id string, u JobUpdate) error
	// UnfinishedJobs lists jobs of kind (every kind when empty) that are
	// not terminal, across tenants, oldest first.
	UnfinishedJobs(ctx context.Context, kind string, limit int) ([]Job, error)
}

// Store is everything the jobs layer needs from the metadata database.
type Store interface {
	DocumentStore
	ChunkStore
	JobStore
	CrawlStore
	ConversationStore
	CacheStore
}
