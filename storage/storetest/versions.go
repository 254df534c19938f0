package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func versionTests() []test {
	return []test{
		{"NewVersionRoundTrip", testNewVersionRoundTrip},
		{"NewVersionCompareAndSet", testNewVersionCAS},
		{"NewVersionConcurrent", testNewVersionConcurrent},
		{"NewVersionSameBytesAsOther", testNewVersionSameBytes},
		{"NewVersionInvalid", testNewVersionInvalid},
		{"BlobLifecycle", testVersionBlobs},
		{"CompleteVersion", testCompleteVersion},
		{"RetryDocument", testRetryDocument},
	}
}

// nextContent is new content for document d, named name.
func nextContent(d ragqueue.Document, name string) ragqueue.Document {
	n := newDoc(d.Tenant, name)
	n.ID = d.ID // ignored: NewVersion takes the id from its argument
	return n
}

func testNewVersionRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	d := newDoc("acme", "v1")
	d.CreatedAt = at(0)
	d.Status, d.Error, d.Pages, d.Chunks = ragqueue.StatusReady, "old error", 3, 9
	d.Metadata = json.RawMessage(`{"team":"docs"}`)
	d = create(t, s, d)

	next := nextContent(d, "v2")
	next.Title, next.ContentType, next.Size = "Second draft", "text/markdown", 77
	next.Status, next.Error, next.Version = ragqueue.StatusReady, "ignored", 42 // not taken
	got, released, err := s.NewVersion(ctx, "acme", d.ID, 1, next)
	require.NoError(t, err)
	require.Empty(t, released, "the ready version's bytes answer until the switch")
	for _, doc := range []ragqueue.Document{got, mustGet(t, s, "acme", d.ID)} {
		require.Equal(t, d.ID, doc.ID)
		require.Equal(t, 2, doc.Version)
		require.Equal(t, ragqueue.StatusQueued, doc.Status)
		require.Empty(t, doc.Error)
		require.Zero(t, doc.Pages)
		require.Zero(t, doc.Chunks)
		require.Equal(t, "Second draft", doc.Title)
		require.Equal(t, next.Source, doc.Source)
		require.Equal(t, "text/markdown", doc.ContentType)
		require.Equal(t, next.SHA256, doc.SHA256)
		require.Equal(t, int64(77), doc.Size)
		require.Equal(t, next.BlobKey, doc.BlobKey)
		require.Equal(t, next.JobID, doc.JobID)
		require.JSONEq(t, `{"team":"docs"}`, string(doc.Metadata), "nil metadata keeps the stored one")
		requireTime(t, d.CreatedAt, doc.CreatedAt)
		requireRecent(t, doc.UpdatedAt)
	}

	// Given metadata replaces it; the version moves on from 2.
	next = nextContent(d, "v3")
	next.Metadata = json.RawMessage(`{"team":"legal"}`)
	got, _, err = s.NewVersion(ctx, "acme", d.ID, 2, next)
	require.NoError(t, err)
	require.Equal(t, 3, got.Version)
	require.JSONEq(t, `{"team":"legal"}`, string(got.Metadata))

	// The first version's bytes are free again: uploading them makes a new
	// document.
	again, created, err := s.CreateDocument(ctx, func() ragqueue.Document { c := newDoc("acme", "v1"); c.ID = "reupload"; return c }())
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, "reupload", again.ID)
}

func testNewVersionCAS(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "a"))
	_, _, err := s.NewVersion(ctx, "acme", d.ID, 2, nextContent(d, "b"))
	requireCode(t, ragqueue.ECONFLICT, err)
	require.Contains(t, ragqueue.ErrorMessage(err), "version 1")
	_, _, err = s.NewVersion(ctx, "acme", "nope", 1, nextContent(d, "b"))
	requireCode(t, ragqueue.ENOTFOUND, err)
	require.Equal(t, d, mustGet(t, s, "acme", d.ID))

	_, _, err = s.NewVersion(ctx, "acme", d.ID, 1, nextContent(d, "b"))
	require.NoError(t, err)
	// The same expectation again is stale now.
	_, _, err = s.NewVersion(ctx, "acme", d.ID, 1, nextContent(d, "c"))
	requireCode(t, ragqueue.ECONFLICT, err)
	require.Equal(t, 2, mustGet(t, s, "acme", d.ID).Version)
}

func testNewVersionConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "base"))
	const n = 10
	var (
		wg   sync.WaitGroup
		errs [n]error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = s.NewVersion(ctx, "acme", d.ID, 1, nextContent(d, fmt.Sprintf("racer-%d", i)))
		}()
	}
	wg.Wait()
	winners := 0
	for _, err := range errs {
		if err == nil {
			winners++
			continue
		}
		requireCode(t, ragqueue.ECONFLICT, err)
	}
	require.Equal(t, 1, winners, "exactly one new version wins the compare-and-set")
	require.Equal(t, 2, mustGet(t, s, "acme", d.ID).Version)
}

func testNewVersionSameBytes(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "mine"))
	other := create(t, s, newDoc("acme", "theirs"))
	foreign := create(t, s, newDoc("globex", "foreign"))

	_, _, err := s.NewVersion(ctx, "acme", d.ID, 1, nextContent(d, "theirs"))
	requireCode(t, ragqueue.ECONFLICT, err)
	require.Contains(t, ragqueue.ErrorMessage(err), other.ID, "the message names the document holding the bytes")
	require.Equal(t, d, mustGet(t, s, "acme", d.ID))

	// Another tenant's bytes are no conflict.
	next := nextContent(d, "x")
	next.SHA256 = foreign.SHA256
	got, _, err := s.NewVersion(ctx, "acme", d.ID, 1, next)
	require.NoError(t, err)
	require.Equal(t, foreign.SHA256, got.SHA256)

	// And the document keeps being found by its new bytes.
	dup := newDoc("acme", "dup")
	dup.SHA256 = foreign.SHA256
	found, created, err := s.CreateDocument(ctx, dup)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, d.ID, found.ID)
}

func testNewVersionInvalid(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "a"))
	next := nextContent(d, "b")
	next.SHA256 = ""
	_, _, err := s.NewVersion(ctx, "acme", d.ID, 1, next)
	requireCode(t, ragqueue.EINVALID, err)
	next = nextContent(d, "b")
	next.Metadata = json.RawMessage(`[1]`)
	_, _, err = s.NewVersion(ctx, "acme", d.ID, 1, next)
	requireCode(t, ragqueue.EINVALID, err)
	require.Equal(t, d, mustGet(t, s, "acme", d.ID))
}

// testVersionBlobs walks a document through versions that become ready and
// versions that fail, checking which bytes are kept and which released.
func testVersionBlobs(t *testing.T, s Store) {
	ctx := context.Background()
	d := newDoc("acme", "b1")
	d.Status = ragqueue.StatusReady
	d = create(t, s, d)
	newVersion := func(expect int, name string) []string {
		t.Helper()
		_, released, err := s.NewVersion(ctx, "acme", d.ID, expect, nextContent(d, name))
		require.NoError(t, err)
		return released
	}
	complete := func(version int) string {
		t.Helper()
		replaced, err := s.CompleteVersion(ctx, "acme", d.ID, version, "")
		require.NoError(t, err)
		return replaced
	}

	require.Empty(t, newVersion(1, "b2"), "b1 answers until version 2 is ready")
	require.Equal(t, "blob-b1", complete(2), "the switch hands over the old bytes")
	require.Equal(t, "blob-b1", complete(2), "again, for a retried job")

	// From ready: b2 is kept; the old key is handed out once more (deleting
	// twice is harmless).
	require.Equal(t, []string{"blob-b1"}, newVersion(2, "b3"))
	// Version 3 fails for good: a new version releases its bytes but keeps
	// b2, the bytes of the version that still answers.
	require.NoError(t, s.SetDocumentStatus(ctx, "acme", d.ID, 3, ragqueue.StatusFailed, "embedder down"))
	require.Equal(t, []string{"blob-b3"}, newVersion(3, "b4"))
	require.Equal(t, "blob-b2", complete(4))

	keys, err := s.DeleteDocument(ctx, "acme", d.ID)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"blob-b4", "blob-b2"}, keys)

	// Deleting while a new version is processing hands over both versions'
	// bytes.
	e := newDoc("acme", "e1")
	e.Status = ragqueue.StatusReady
	e = create(t, s, e)
	_, _, err = s.NewVersion(ctx, "acme", e.ID, 1, nextContent(e, "e2"))
	require.NoError(t, err)
	keys, err = s.DeleteDocument(ctx, "acme", e.ID)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"blob-e1", "blob-e2"}, keys)
}

func testCompleteVersion(t *testing.T, s Store) {
	ctx := context.Background()
	d := newDoc("acme", "a")
	d.Status = ragqueue.StatusReady
	d = create(t, s, d)
	other := create(t, s, newDoc("acme", "other"))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, makeChunks(d.ID, 1, 4, "old")))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", other.ID, 1, 0, makeChunks(other.ID, 1, 2, "other")))
	_, _, err := s.NewVersion(ctx, "acme", d.ID, 1, nextContent(d, "b"))
	require.NoError(t, err)
	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 2, 0, makeChunks(d.ID, 2, 3, "new")))
	require.NoError(t, s.SetDocumentStatus(ctx, "acme", d.ID, 2, ragqueue.StatusProcessing, "transient"))

	// Until the switch both versions' chunks are stored.
	old, err := s.ListChunks(ctx, "acme", d.ID, 1)
	require.NoError(t, err)
	require.Len(t, old, 4)

	_, err = s.CompleteVersion(ctx, "acme", d.ID, 1, "")
	requireCode(t, ragqueue.ENOTFOUND, err) // a stale job
	_, err = s.CompleteVersion(ctx, "acme", d.ID, 2, "")
	require.NoError(t, err)
	got := mustGet(t, s, "acme", d.ID)
	require.Equal(t, ragqueue.StatusReady, got.Status)
	require.Empty(t, got.Error)
	old, err = s.ListChunks(ctx, "acme", d.ID, 1)
	require.NoError(t, err)
	require.Empty(t, old, "the old version's chunks go with the switch")
	cur, err := s.ListChunks(ctx, "acme", d.ID, 2)
	require.NoError(t, err)
	require.Equal(t, withOwner(makeChunks(d.ID, 2, 3, "new"), "acme", d.ID, 2), cur)
	kept, err := s.ListChunks(ctx, "acme", other.ID, 1)
	require.NoError(t, err)
	require.Len(t, kept, 2, "another document's chunks were touched")

	// Completing again (a retried job) may carry a note: it becomes the
	// error field in the same step as ready.
	_, err = s.CompleteVersion(ctx, "acme", d.ID, 2, "warning: no text layer")
	require.NoError(t, err)
	got = mustGet(t, s, "acme", d.ID)
	require.Equal(t, ragqueue.StatusReady, got.Status)
	require.Equal(t, "warning: no text layer", got.Error)
}

func testRetryDocument(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "a"))
	require.NoError(t, s.SetDocumentStatus(ctx, "acme", d.ID, 1, ragqueue.StatusFailed, "embedder down"))

	_, err := s.RetryDocument(ctx, "acme", d.ID, 2, "job-2")
	requireCode(t, ragqueue.ECONFLICT, err)
	_, err = s.RetryDocument(ctx, "acme", d.ID, 1, "")
	requireCode(t, ragqueue.EINVALID, err)

	got, err := s.RetryDocument(ctx, "acme", d.ID, 1, "job-2")
	require.NoError(t, err)
	require.Equal(t, ragqueue.StatusQueued, got.Status)
	require.Empty(t, got.Error)
	require.Equal(t, "job-2", got.JobID)
	require.Equal(t, 1, got.Version)
	require.Equal(t, got, mustGet(t, s, "acme", d.ID))
	unfinished, err := s.UnfinishedDocuments(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, []string{d.ID}, ids(unfinished), "the reconciler sees a retried document")

	// Only a failed document can be retried: not a queued one (the same
	// retry twice), not a ready or rejected one.
	_, err = s.RetryDocument(ctx, "acme", d.ID, 1, "job-3")
	requireCode(t, ragqueue.ECONFLICT, err)
	require.Contains(t, ragqueue.ErrorMessage(err), "queued")
	for _, st := range []ragqueue.Status{ragqueue.StatusReady, ragqueue.StatusRejected, ragqueue.StatusProcessing} {
		require.NoError(t, s.SetDocumentStatus(ctx, "acme", d.ID, 1, st, ""))
		_, err = s.RetryDocument(ctx, "acme", d.ID, 1, "job-4")
		requireCode(t, ragqueue.ECONFLICT, err)
	}
	require.Equal(t, "job-2", mustGet(t, s, "acme", d.ID).JobID)
	docs, _, err := s.ListDocuments(ctx, "acme", ragqueue.DocumentFilter{})
	require.NoError(t, err)
	require.Len(t, docs, 1)
}
