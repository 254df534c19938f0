package ragqueue

import (
	"context"
	"time"
)

// The stores the use cases need, one per concept. The metadata database (storage/sqlite, storage/postgres) implements them all; each use case asks only for the ones it uses.

// DocumentStore is the part of the metadata database the pipeline needs for
// documents. Every method is scoped to a tenant except the reconciler's.
type DocumentStore interface {
	// CreateDocument inserts d unless the tenant already has a document with
	// the same SHA256; then it returns that one and created=false. Safe under
	// concurrent calls with the same bytes: exactly one document results.
	// An empty ID gets a new one, an empty Status is queued, zero times are
	// now and nil Metadata is {}; the stored row is what comes back.
	CreateDocument(ctx context.Context, d Document) (doc Document, created bool, err error)
	GetDocument(ctx context.Context, tenant, id string) (Document, error)
	// DocumentBySource returns the tenant's document whose Source is source
	// (a page's normalised URL, say), the most recently created one when
	// several share it; ENOTFOUND when none does.
	DocumentBySource(ctx context.Context, tenant, source string) (Document, error)
	ListDocuments(ctx context.Context, tenant string, f DocumentFilter) (docs []Document, nextCursor string, err error)
	// SetDocumentStatus moves a document to status, recording errMsg, and
	// only if its version is still version (a newer upload or a delete wins).
	// It returns ENOTFOUND when no such document/version exists.
	SetDocumentStatus(ctx context.Context, tenant, id string, version int, status Status, errMsg string) error
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
	NewVersion(ctx context.Context, tenant, id string, expectVersion int, next Document) (doc Document, released []string, err error)
	// RetryDocument queues version of a failed document again under a new
	// job: status queued, error cleared, job_id jobID. ECONFLICT when the
	// document is not failed at that version, ENOTFOUND when it is gone.
	RetryDocument(ctx context.Context, tenant, id string, version int, jobID string) (Document, error)
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
	UnfinishedDocuments(ctx context.Context, limit int) ([]Document, error)
	// ReadyDocuments lists ready documents across all tenants in ID order,
	// those with an ID after after, at most limit (≤ 0: 100), for a re-index
	// to walk every document.
	ReadyDocuments(ctx context.Context, after string, limit int) ([]Document, error)
}

// ChunkStore keeps chunk text in the metadata database so that embedding can
// be retried, and an index rebuilt, without parsing again.
type ChunkStore interface {
	// ReplaceChunks atomically replaces the chunks of one document version
	// and records the version's counts: pages, and len(chunks) chunks. It
	// returns ENOTFOUND when no such document/version exists.
	ReplaceChunks(ctx context.Context, tenant, documentID string, version, pages int, chunks []Chunk) error
	ListChunks(ctx context.Context, tenant, documentID string, version int) ([]Chunk, error)
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

// CrawlStore keeps crawl records.
type CrawlStore interface {
	// CreateCrawl inserts c; an existing crawl with c.ID is left alone
	// (idempotent). An empty Status becomes queued, a zero CreatedAt now.
	CreateCrawl(ctx context.Context, c Crawl) error
	// GetCrawl returns a crawl of tenant (ENOTFOUND otherwise).
	GetCrawl(ctx context.Context, tenant, id string) (Crawl, error)
	// UpdateCrawl replaces the job id, status, counts, documents, errors,
	// completion time and next run of crawl c.ID in c.Tenant (ENOTFOUND when
	// missing).
	UpdateCrawl(ctx context.Context, c Crawl) error
	// UnfinishedCrawls lists crawls that are not terminal or have a next
	// run scheduled, across tenants, oldest first, for the reconciler.
	UnfinishedCrawls(ctx context.Context, limit int) ([]Crawl, error)
}

// ConversationStore keeps conversation history in the metadata database.
// Conversation IDs are scoped by tenant: two tenants may use the same ID and
// never see each other's turns.
type ConversationStore interface {
	// AddTurn appends t to its conversation, creating the conversation when
	// it is new, and returns t with Seq (1, 2, …) and CreatedAt set. It is
	// idempotent on the job: a turn whose JobID the conversation already
	// holds is returned as stored, not added again (a retried job).
	AddTurn(ctx context.Context, t Turn) (Turn, error)
	// RecentTurns returns the last n turns of a conversation, oldest first;
	// none (and no error) for an unknown conversation.
	RecentTurns(ctx context.Context, tenant, conversationID string, n int) ([]Turn, error)
	// GetConversation returns a conversation with all its turns, oldest
	// first; ENOTFOUND when the tenant has none with that ID.
	GetConversation(ctx context.Context, tenant, id string) (Conversation, error)
	// DeleteConversation removes a conversation and its turns; ENOTFOUND
	// when the tenant has none with that ID.
	DeleteConversation(ctx context.Context, tenant, id string) error
}

// CacheStore keeps the answer cache in the metadata database.
type CacheStore interface {
	// PutCacheEntry stores e (replacing an entry with the same tenant,
	// space and key) unless one of e.DocumentIDs changed (a version
	// completed, or a delete: InvalidateDocumentCache) at or after since,
	// the time the answer's retrieval started; then it stores nothing and
	// returns false. Beyond maxEntries entries for the tenant (> 0), the
	// oldest are removed. ID and CreatedAt are set when empty.
	PutCacheEntry(ctx context.Context, e CacheEntry, since time.Time, maxEntries int) (stored bool, err error)
	// CacheEntryByKey returns the tenant's entry of space with the key,
	// created at or after notBefore; ENOTFOUND when there is none.
	CacheEntryByKey(ctx context.Context, tenant, space, key string, notBefore time.Time) (CacheEntry, error)
	// CacheVectors lists the ID and Vector of the tenant's entries of space
	// created at or after notBefore, newest first, at most limit.
	CacheVectors(ctx context.Context, tenant, space string, notBefore time.Time, limit int) ([]CacheEntry, error)
	// GetCacheEntry returns one entry of the tenant; ENOTFOUND when gone.
	GetCacheEntry(ctx context.Context, tenant, id string) (CacheEntry, error)
	// InvalidateDocumentCache removes every entry of the tenant that cites
	// the document, and remembers the change so that an answer retrieved
	// before it is not cached after it.
	InvalidateDocumentCache(ctx context.Context, tenant, documentID string) error
}

// ErrStoreUnavailable is what a Store returns (wrapped) while the metadata
// database cannot be reached. A task failing with it is retried without
// spending its retries: an outage of the database is nobody's fault and
// its documents must not end failed, or stuck, for it.
var ErrStoreUnavailable = Errorf(EUNAVAILABLE, "the metadata database is unavailable; try again shortly")
