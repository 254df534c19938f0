package documents_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/documents"
	"github.com/ragqueue/ragqueue/storage"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// The blob store the app wires in is the one the use cases ask for.
var _ documents.BlobStore = (*storage.FileBlobs)(nil)

// usecaseBundle is the document use cases as the API calls them: on the
// env's queue (Redis), with no worker unless a test starts one.
type usecaseBundle struct {
	*env
	docs   *documents.Service
	tenant string
}

func setupUsecases(t *testing.T) *usecaseBundle {
	t.Helper()
	e := newEnv(t, redistest.Miniredis(t))
	return &usecaseBundle{env: e, docs: e.Deps(e.Asynq).Documents(e.Client), tenant: "acme"}
}

// upload stores text as the API stores an upload's bytes.
func (b *usecaseBundle) upload(t *testing.T, text string) documents.Upload {
	t.Helper()
	blob, err := b.docs.StoreBytes(t.Context(), strings.NewReader(text), 1<<20)
	require.NoError(t, err)
	return documents.Upload{
		Tenant: b.tenant, Title: "", DefaultTitle: documents.TitleFromText(text),
		Source: "text", ContentType: ingest.TypeText, Blob: blob,
	}
}

// stored says whether the blob store still holds key.
func (b *usecaseBundle) stored(t *testing.T, key string) bool {
	t.Helper()
	rc, err := b.Blobs.Open(t.Context(), key)
	if err == nil {
		_ = rc.Close()
	}
	return err == nil
}

// pendingIngests lists the parse tasks waiting in the ingest queue.
func (b *usecaseBundle) pendingIngests(t *testing.T) []string {
	t.Helper()
	tasks, err := b.Inspector.ListPendingTasks(jobs.QueueIngest)
	if err != nil {
		return nil // no queue yet: nothing enqueued
	}
	var ids []string
	for _, task := range tasks {
		ids = append(ids, task.ID)
	}
	return ids
}

// TestCreateKeepsOrDiscardsBytes: Create records a queued document titled
// from its text, with a job carrying the callback, and enqueues it; the same
// bytes again are the duplicate, whose new copy is deleted; a document the
// store cannot create leaves no bytes either.
func TestCreateKeepsOrDiscardsBytes(t *testing.T) {
	t.Parallel()
	b := setupUsecases(t)
	ctx := t.Context()
	up := b.upload(t, "\n  Pump manual  \nThe pump needs oil.")
	up.Callback = "https://hooks.example.com/ragqueue"
	created, err := b.docs.Create(ctx, up)
	require.NoError(t, err)
	require.False(t, created.Duplicate)
	doc := created.Document
	require.Equal(t, "Pump manual", doc.Title)
	require.Equal(t, ragqueue.StatusQueued, doc.Status)
	require.Equal(t, 1, doc.Version)
	require.JSONEq(t, `{}`, string(doc.Metadata))
	require.True(t, b.stored(t, up.Blob.Key))
	job := b.GetJob(t, b.tenant, doc.JobID)
	require.Equal(t, ragqueue.KindIngest, job.Type)
	require.Equal(t, up.Callback, job.CallbackURL)
	require.Len(t, b.pendingIngests(t), 1)

	again := b.upload(t, "\n  Pump manual  \nThe pump needs oil.")
	again.Title = "Another name"
	dup, err := b.docs.Create(ctx, again)
	require.NoError(t, err)
	require.True(t, dup.Duplicate)
	require.Equal(t, doc.ID, dup.Document.ID)
	require.False(t, b.stored(t, again.Blob.Key), "the duplicate's bytes are deleted")
	require.True(t, b.stored(t, up.Blob.Key))
	require.Len(t, b.pendingIngests(t), 1, "a duplicate enqueues nothing")

	refused := b.upload(t, "other words")
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = b.docs.Create(canceled, refused)
	require.Error(t, err)
	require.False(t, b.stored(t, refused.Blob.Key), "bytes of a document not created are deleted")
}

// TestNewVersionRule: the same bytes as the current version change nothing;
// a version still being ingested refuses new content; bytes another
// document holds are refused; otherwise a new version keeps the title and
// is queued. The new content's bytes are deleted whenever no version is made.
func TestNewVersionRule(t *testing.T) {
	t.Parallel()
	b := setupUsecases(t)
	ctx := t.Context()
	first, err := b.docs.Create(ctx, b.upload(t, "version one"))
	require.NoError(t, err)
	cur := first.Document

	same := b.upload(t, "version one")
	v, err := b.docs.NewVersion(ctx, cur, same)
	require.NoError(t, err)
	require.True(t, v.Unchanged)
	require.Equal(t, cur.ID, v.Document.ID)
	require.False(t, b.stored(t, same.Blob.Key), "unchanged: the new copy is deleted")
	require.True(t, b.stored(t, cur.BlobKey))

	busy := b.upload(t, "version two")
	_, err = b.docs.NewVersion(ctx, cur, busy)
	require.Equal(t, ragqueue.ECONFLICT, ragqueue.ErrorCode(err))
	require.Equal(t, "version 1 of document "+cur.ID+" is still queued; wait until it finishes (GET /v1/documents/"+cur.ID+") and send the new content again", ragqueue.ErrorMessage(err))
	require.False(t, b.stored(t, busy.Blob.Key), "busy: the new bytes are deleted")

	require.NoError(t, b.Store.SetDocumentStatus(ctx, b.tenant, cur.ID, cur.Version, ragqueue.StatusReady, ""))
	cur = b.GetDocument(t, b.tenant, cur.ID)
	other, err := b.docs.Create(ctx, b.upload(t, "another document"))
	require.NoError(t, err)
	taken := b.upload(t, "another document")
	_, err = b.docs.NewVersion(ctx, cur, taken)
	require.Equal(t, ragqueue.ECONFLICT, ragqueue.ErrorCode(err))
	require.Contains(t, ragqueue.ErrorMessage(err), other.Document.ID)
	require.False(t, b.stored(t, taken.Blob.Key), "refused: the new bytes are deleted")

	next := b.upload(t, "version two")
	next.Callback = "https://hooks.example.com/v2"
	v, err = b.docs.NewVersion(ctx, cur, next)
	require.NoError(t, err)
	require.False(t, v.Unchanged)
	require.Equal(t, 2, v.Document.Version)
	require.Equal(t, "version one", v.Document.Title, "a version keeps its document's title")
	require.Equal(t, ragqueue.StatusQueued, v.Document.Status)
	require.NotEqual(t, cur.JobID, v.Document.JobID)
	require.True(t, b.stored(t, next.Blob.Key))
	require.Equal(t, next.Callback, b.GetJob(t, b.tenant, v.Document.JobID).CallbackURL)
}

// TestRetryOnlyFailed: only a failed document is retried, under a new job
// that is enqueued; a rejected or unfinished one is refused, saying why.
func TestRetryOnlyFailed(t *testing.T) {
	t.Parallel()
	b := setupUsecases(t)
	ctx := t.Context()
	created, err := b.docs.Create(ctx, b.upload(t, "retry me"))
	require.NoError(t, err)
	doc := created.Document

	_, err = b.docs.Retry(ctx, b.tenant, doc.ID)
	require.Equal(t, ragqueue.ECONFLICT, ragqueue.ErrorCode(err))
	require.Equal(t, "document "+doc.ID+" is queued; only failed documents can be retried", ragqueue.ErrorMessage(err))

	require.NoError(t, b.Store.SetDocumentStatus(ctx, b.tenant, doc.ID, doc.Version, ragqueue.StatusRejected, "the file is encrypted"))
	_, err = b.docs.Retry(ctx, b.tenant, doc.ID)
	require.Equal(t, ragqueue.ECONFLICT, ragqueue.ErrorCode(err))
	require.Equal(t, "rejected documents cannot be retried: the file is encrypted; send other content with PUT /v1/documents/"+doc.ID, ragqueue.ErrorMessage(err))

	require.NoError(t, b.Store.SetDocumentStatus(ctx, b.tenant, doc.ID, doc.Version, ragqueue.StatusFailed, "embedder down"))
	before := len(b.pendingIngests(t))
	retried, err := b.docs.Retry(ctx, b.tenant, doc.ID)
	require.NoError(t, err)
	require.Equal(t, ragqueue.StatusQueued, retried.Status)
	require.NotEqual(t, doc.JobID, retried.JobID)
	require.Equal(t, ragqueue.StateQueued, b.GetJob(t, b.tenant, retried.JobID).State)
	require.Len(t, b.pendingIngests(t), before+1)

	_, err = b.docs.Retry(ctx, "other", doc.ID)
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(err))
}

// TestDeleteRemovesEverything: deleting an ingested document removes its
// chunks from the index, its record, the cached answers citing it and its
// bytes; another tenant cannot delete it.
func TestDeleteRemovesEverything(t *testing.T) {
	t.Parallel()
	b := setupUsecases(t)
	ctx := t.Context()
	b.StartWorker(t, b.Deps(b.Asynq))
	created, err := b.docs.Create(ctx, b.upload(t, manual))
	require.NoError(t, err)
	doc := created.Document
	require.Equal(t, ragqueue.StateSucceeded, b.WaitJob(t, b.tenant, doc.JobID).State)
	require.NotEmpty(t, b.IndexedChunkIDs(t, b.tenant, doc.ID))
	stored, err := b.Store.PutCacheEntry(ctx, ragqueue.CacheEntry{
		Tenant: b.tenant, Space: "hash", Key: "warranty", Question: "warranty?",
		Result: []byte(`{}`), DocumentIDs: []string{doc.ID},
	}, time.Now(), 0)
	require.NoError(t, err)
	require.True(t, stored)
	entry, err := b.Store.CacheEntryByKey(ctx, b.tenant, "hash", "warranty", time.Time{})
	require.NoError(t, err)

	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(b.docs.Delete(ctx, "other", doc.ID)))
	require.NotEmpty(t, b.IndexedChunkIDs(t, b.tenant, doc.ID))

	require.NoError(t, b.docs.Delete(ctx, b.tenant, doc.ID))
	require.Empty(t, b.IndexedChunkIDs(t, b.tenant, doc.ID), "index chunks")
	_, err = b.Store.GetDocument(ctx, b.tenant, doc.ID)
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(err), "store row")
	_, err = b.Store.GetCacheEntry(ctx, b.tenant, entry.ID)
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(err), "cache entry")
	require.False(t, b.stored(t, doc.BlobKey), "blob")
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(b.docs.Delete(ctx, b.tenant, doc.ID)))
}

// TestListChecks: List refuses an unknown status before a bad limit, pages
// with the limit given (50 by default) and shows no documents as [].
func TestListChecks(t *testing.T) {
	t.Parallel()
	b := setupUsecases(t)
	ctx := t.Context()
	limit := func(n int) *int { return &n }
	_, err := b.docs.List(ctx, documents.Listing{Tenant: b.tenant, Status: "done", Limit: limit(0)})
	require.Equal(t, `status "done" is not one of queued, processing, ready, failed, rejected`, ragqueue.ErrorMessage(err))
	for _, n := range []int{0, 501} {
		_, err = b.docs.List(ctx, documents.Listing{Tenant: b.tenant, Limit: limit(n)})
		require.Equal(t, "limit must be a whole number from 1 to 500", ragqueue.ErrorMessage(err))
	}
	page, err := b.docs.List(ctx, documents.Listing{Tenant: b.tenant})
	require.NoError(t, err)
	require.NotNil(t, page.Documents)
	require.Empty(t, page.Documents)

	for _, text := range []string{"one", "two", "three"} {
		_, err := b.docs.Create(ctx, b.upload(t, text))
		require.NoError(t, err)
	}
	page, err = b.docs.List(ctx, documents.Listing{Tenant: b.tenant, Status: ragqueue.StatusQueued, Limit: limit(2)})
	require.NoError(t, err)
	require.Len(t, page.Documents, 2)
	require.NotEmpty(t, page.Next)
	page, err = b.docs.List(ctx, documents.Listing{Tenant: b.tenant, Limit: limit(2), Cursor: page.Next})
	require.NoError(t, err)
	require.Len(t, page.Documents, 1)
	require.Empty(t, page.Next)
}

// TestCheckMetadataAndTitle: metadata must be a bounded JSON object and is
// stored compacted; a text's title is its first non-blank line, cut to 80
// runes.
func TestCheckMetadataAndTitle(t *testing.T) {
	t.Parallel()
	md, err := documents.CheckMetadata([]byte(`{ "team" : "docs" }`))
	require.NoError(t, err)
	require.Equal(t, `{"team":"docs"}`, string(md))
	for _, raw := range []string{`[]`, `null`, `"x"`, `{`} {
		_, err := documents.CheckMetadata([]byte(raw))
		require.Equal(t, `metadata must be a JSON object, e.g. {"team":"docs"}`, ragqueue.ErrorMessage(err), raw)
	}
	_, err = documents.CheckMetadata([]byte(`{"x":"` + strings.Repeat("a", documents.MaxMetadataBytes) + `"}`))
	require.Equal(t, "metadata is larger than 16384 bytes", ragqueue.ErrorMessage(err))

	require.Equal(t, "untitled", documents.TitleFromText(" \n\t\n"))
	require.Equal(t, "Second line", documents.TitleFromText("\n  Second line \nthird"))
	require.Equal(t, strings.Repeat("é", 80), documents.TitleFromText(strings.Repeat("é", 81)))
}
