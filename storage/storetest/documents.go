package storetest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func documentTests() []test {
	return []test{
		{"CreateGetRoundTrip", testDocumentRoundTrip},
		{"CreateDefaults", testDocumentDefaults},
		{"CreateDedupe", testDocumentDedupe},
		{"CreateDedupeConcurrent", testDocumentDedupeConcurrent},
		{"CreateDuplicateID", testDocumentDuplicateID},
		{"CreateInvalid", testDocumentInvalid},
		{"GetNotFound", testDocumentNotFound},
		{"TenantIsolation", testDocumentTenantIsolation},
		{"ListPagination", testDocumentListPagination},
		{"ListStatusFilter", testDocumentListStatusFilter},
		{"ListLimits", testDocumentListLimits},
		{"ListBadInput", testDocumentListBadInput},
		{"SetStatusVersionGuard", testDocumentSetStatus},
		{"SetCountsVersionGuard", testDocumentSetCounts},
		{"DeleteCascades", testDocumentDelete},
		{"Unfinished", testDocumentUnfinished},
		{"ReadyAcrossTenants", testDocumentReady},
	}
}

// newDoc returns a valid document of tenant whose content is name.
func newDoc(tenant, name string) ragqueue.Document {
	return ragqueue.Document{
		ID:          "doc-" + tenant + "-" + name,
		Tenant:      tenant,
		Title:       name,
		Source:      "upload:" + name + ".txt",
		ContentType: "text/plain",
		SHA256:      fmt.Sprintf("%064x", []byte(name)),
		Size:        int64(len(name)),
		BlobKey:     "blob-" + name,
		Status:      ragqueue.StatusQueued,
		Version:     1,
		JobID:       "job-" + name,
	}
}

func create(t *testing.T, s Store, d ragqueue.Document) ragqueue.Document {
	t.Helper()
	got, created, err := s.CreateDocument(context.Background(), d)
	require.NoError(t, err)
	require.True(t, created, "document %s was not created", d.ID)
	return got
}

func testDocumentRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	d := ragqueue.Document{
		ID:          "d1",
		Tenant:      "acme",
		Title:       "Annual report",
		Source:      "https://example.com/report.html",
		ContentType: "text/html",
		SHA256:      "ab12",
		Size:        12345,
		BlobKey:     "blobs/ab12",
		Status:      ragqueue.StatusProcessing,
		Error:       "earlier failure",
		Pages:       3,
		Chunks:      17,
		Version:     4,
		JobID:       "job-9",
		Metadata:    json.RawMessage(`{"lang": "en", "tags": ["a", "b"], "n": 1.5}`),
		CreatedAt:   time.Date(2023, 1, 2, 3, 4, 5, 678901000, time.FixedZone("X", 3600)),
		UpdatedAt:   time.Date(2023, 1, 2, 4, 4, 5, 1000, time.UTC),
	}
	got, created, err := s.CreateDocument(ctx, d)
	require.NoError(t, err)
	require.True(t, created)
	for _, doc := range []ragqueue.Document{got, mustGet(t, s, "acme", "d1")} {
		require.JSONEq(t, string(d.Metadata), string(doc.Metadata))
		requireTime(t, d.CreatedAt, doc.CreatedAt)
		requireTime(t, d.UpdatedAt, doc.UpdatedAt)
		want := d
		want.Metadata, want.CreatedAt, want.UpdatedAt = doc.Metadata, doc.CreatedAt, doc.UpdatedAt
		require.Equal(t, want, doc)
	}
}

func mustGet(t *testing.T, s Store, tenant, id string) ragqueue.Document {
	t.Helper()
	d, err := s.GetDocument(context.Background(), tenant, id)
	require.NoError(t, err)
	return d
}

func testDocumentDefaults(t *testing.T, s Store) {
	ctx := context.Background()
	got, created, err := s.CreateDocument(ctx, ragqueue.Document{Tenant: "acme", SHA256: "aa"})
	require.NoError(t, err)
	require.True(t, created)
	require.NotEmpty(t, got.ID)
	require.Equal(t, ragqueue.StatusQueued, got.Status)
	require.JSONEq(t, `{}`, string(got.Metadata))
	requireRecent(t, got.CreatedAt)
	requireRecent(t, got.UpdatedAt)
	require.Equal(t, got, mustGet(t, s, "acme", got.ID))

	// A JSON null is no metadata, too.
	d := newDoc("acme", "null-meta")
	d.Metadata = json.RawMessage(`null`)
	require.JSONEq(t, `{}`, string(create(t, s, d).Metadata))
}

func testDocumentDedupe(t *testing.T, s Store) {
	ctx := context.Background()
	first := create(t, s, newDoc("acme", "report"))

	again := newDoc("acme", "report")
	again.ID, again.Title = "other-id", "same bytes, other name"
	got, created, err := s.CreateDocument(ctx, again)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first, got)

	// A retried request (same id, same bytes) is no conflict either.
	got, created, err = s.CreateDocument(ctx, newDoc("acme", "report"))
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, first, got)

	// The same bytes in another tenant are another document.
	other := newDoc("globex", "report")
	other.SHA256 = first.SHA256
	got, created, err = s.CreateDocument(ctx, other)
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, other.ID, got.ID)

	docs, _, err := s.ListDocuments(ctx, "acme", ragqueue.DocumentFilter{})
	require.NoError(t, err)
	require.Len(t, docs, 1)
}

func testDocumentDedupeConcurrent(t *testing.T, s Store) {
	ctx := context.Background()
	const n = 20
	var (
		wg      sync.WaitGroup
		results [n]ragqueue.Document
		created [n]bool
		errs    [n]error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := newDoc("acme", "same")
			d.ID = fmt.Sprintf("concurrent-%d", i)
			results[i], created[i], errs[i] = s.CreateDocument(ctx, d)
		}()
	}
	wg.Wait()
	winners := 0
	for i := range n {
		require.NoError(t, errs[i])
		require.Equal(t, results[0].ID, results[i].ID)
		if created[i] {
			winners++
			require.Equal(t, fmt.Sprintf("concurrent-%d", i), results[i].ID)
		}
	}
	require.Equal(t, 1, winners)
	docs, _, err := s.ListDocuments(ctx, "acme", ragqueue.DocumentFilter{})
	require.NoError(t, err)
	require.Len(t, docs, 1)
}

func testDocumentDuplicateID(t *testing.T, s Store) {
	create(t, s, newDoc("acme", "a"))
	d := newDoc("acme", "b")
	d.ID = "doc-acme-a"
	_, _, err := s.CreateDocument(context.Background(), d)
	requireCode(t, ragqueue.ECONFLICT, err)
}

func testDocumentInvalid(t *testing.T, s Store) {
	ctx := context.Background()
	for name, mutate := range map[string]func(*ragqueue.Document){
		"no tenant":      func(d *ragqueue.Document) { d.Tenant = "" },
		"no sha256":      func(d *ragqueue.Document) { d.SHA256 = "" },
		"bad status":     func(d *ragqueue.Document) { d.Status = "done" },
		"array metadata": func(d *ragqueue.Document) { d.Metadata = json.RawMessage(`[1]`) },
		"bad metadata":   func(d *ragqueue.Document) { d.Metadata = json.RawMessage(`{"a":`) },
	} {
		d := newDoc("acme", name)
		mutate(&d)
		_, _, err := s.CreateDocument(ctx, d)
		requireCode(t, ragqueue.EINVALID, err)
	}
}

func testDocumentNotFound(t *testing.T, s Store) {
	_, err := s.GetDocument(context.Background(), "acme", "nope")
	requireCode(t, ragqueue.ENOTFOUND, err)
	require.Equal(t, "document nope not found", ragqueue.ErrorMessage(err))
}

func testDocumentTenantIsolation(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "secret"))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, makeChunks(d.ID, 1, 3, "x")))
	d = mustGet(t, s, "acme", d.ID) // with its chunk count

	_, err := s.GetDocument(ctx, "globex", d.ID)
	requireCode(t, ragqueue.ENOTFOUND, err)
	requireCode(t, ragqueue.ENOTFOUND, s.SetDocumentStatus(ctx, "globex", d.ID, 1, ragqueue.StatusFailed, "x"))
	requireCode(t, ragqueue.ENOTFOUND, s.ReplaceChunks(ctx, "globex", d.ID, 1, 0, nil))
	_, err = s.DeleteDocument(ctx, "globex", d.ID)
	requireCode(t, ragqueue.ENOTFOUND, err)
	_, _, err = s.NewVersion(ctx, "globex", d.ID, 1, newDoc("globex", "stolen"))
	requireCode(t, ragqueue.ENOTFOUND, err)
	_, err = s.CompleteVersion(ctx, "globex", d.ID, 1, "")
	requireCode(t, ragqueue.ENOTFOUND, err)
	_, err = s.RetryDocument(ctx, "globex", d.ID, 1, "job-x")
	requireCode(t, ragqueue.ENOTFOUND, err)
	chunks, err := s.ListChunks(ctx, "globex", d.ID, 1)
	require.NoError(t, err)
	require.Empty(t, chunks)
	docs, next, err := s.ListDocuments(ctx, "globex", ragqueue.DocumentFilter{})
	require.NoError(t, err)
	require.Empty(t, docs)
	require.Empty(t, next)

	// Nothing changed for the owner.
	require.Equal(t, d, mustGet(t, s, "acme", d.ID))
	chunks, err = s.ListChunks(ctx, "acme", d.ID, 1)
	require.NoError(t, err)
	require.Len(t, chunks, 3)
}

// seedDocs creates n documents in tenant, the i-th created at(i). Two pairs
// share a creation time so that the id tie-break is exercised.
func seedDocs(t *testing.T, s Store, tenant string, n int, status func(i int) ragqueue.Status) []ragqueue.Document {
	t.Helper()
	docs := make([]ragqueue.Document, n)
	for i := range n {
		d := newDoc(tenant, fmt.Sprintf("n%03d", i))
		d.CreatedAt = at(i - i%2) // 0,0,2,2,4,4,...
		if status != nil {
			d.Status = status(i)
		}
		docs[i] = create(t, s, d)
	}
	return docs
}

// newestFirst returns docs ordered as ListDocuments must order them.
func newestFirst(docs []ragqueue.Document) []string {
	ids := make([]string, 0, len(docs))
	for i := len(docs) - 1; i >= 0; i-- { // seedDocs makes created_at, then id, ascend with i
		ids = append(ids, docs[i].ID)
	}
	return ids
}

func ids(docs []ragqueue.Document) []string {
	out := make([]string, len(docs))
	for i, d := range docs {
		out[i] = d.ID
	}
	return out
}

// listAll pages through tenant's documents with limit and returns the page
// sizes and all ids in order.
func listAll(t *testing.T, s Store, tenant string, f ragqueue.DocumentFilter) ([]int, []string) {
	t.Helper()
	var (
		sizes []int
		all   []string
	)
	for page := 0; ; page++ {
		require.Less(t, page, 100, "pagination does not end")
		docs, next, err := s.ListDocuments(context.Background(), tenant, f)
		require.NoError(t, err)
		sizes = append(sizes, len(docs))
		all = append(all, ids(docs)...)
		if next == "" {
			return sizes, all
		}
		f.Cursor = next
	}
}

func testDocumentListPagination(t *testing.T, s Store) {
	docs := seedDocs(t, s, "acme", 7, nil)
	seedDocs(t, s, "globex", 4, nil)

	sizes, got := listAll(t, s, "acme", ragqueue.DocumentFilter{Limit: 3})
	require.Equal(t, []int{3, 3, 1}, sizes)
	require.Equal(t, newestFirst(docs), got)

	// A page that ends exactly at the last document has no next cursor.
	sizes, got = listAll(t, s, "acme", ragqueue.DocumentFilter{Limit: 7})
	require.Equal(t, []int{7}, sizes)
	require.Equal(t, newestFirst(docs), got)
}

func testDocumentListStatusFilter(t *testing.T, s Store) {
	docs := seedDocs(t, s, "acme", 9, func(i int) ragqueue.Status {
		if i%2 == 0 {
			return ragqueue.StatusReady // 0,2,4,6,8: five of them
		}
		return ragqueue.StatusQueued
	})
	var ready []ragqueue.Document
	for _, d := range docs {
		if d.Status == ragqueue.StatusReady {
			ready = append(ready, d)
		}
	}
	sizes, got := listAll(t, s, "acme", ragqueue.DocumentFilter{Status: ragqueue.StatusReady, Limit: 2})
	require.Equal(t, []int{2, 2, 1}, sizes)
	require.Equal(t, newestFirst(ready), got)

	sizes, got = listAll(t, s, "acme", ragqueue.DocumentFilter{Status: ragqueue.StatusRejected})
	require.Equal(t, []int{0}, sizes)
	require.Empty(t, got)
}

func testDocumentListLimits(t *testing.T, s Store) {
	ctx := context.Background()
	seedDocs(t, s, "acme", 501, nil)
	docs, next, err := s.ListDocuments(ctx, "acme", ragqueue.DocumentFilter{})
	require.NoError(t, err)
	require.Len(t, docs, 50, "default limit")
	require.NotEmpty(t, next)
	docs, next, err = s.ListDocuments(ctx, "acme", ragqueue.DocumentFilter{Limit: 10000})
	require.NoError(t, err)
	require.Len(t, docs, 500, "maximum limit")
	require.NotEmpty(t, next)
	docs, next, err = s.ListDocuments(ctx, "acme", ragqueue.DocumentFilter{Limit: 500, Cursor: next})
	require.NoError(t, err)
	require.Len(t, docs, 1)
	require.Empty(t, next)
}

func testDocumentListBadInput(t *testing.T, s Store) {
	ctx := context.Background()
	seedDocs(t, s, "acme", 3, nil)
	for _, cursor := range []string{
		"!!!",
		"bm90IGEgY3Vyc29y", // "not a cursor"
		base64.RawURLEncoding.EncodeToString([]byte("12.")),
		base64.RawURLEncoding.EncodeToString([]byte("x.doc-1")),
	} {
		_, _, err := s.ListDocuments(ctx, "acme", ragqueue.DocumentFilter{Cursor: cursor})
		requireCode(t, ragqueue.EINVALID, err)
		require.Equal(t, "cursor is not valid; pass next_cursor from the previous page", ragqueue.ErrorMessage(err))
	}
	_, _, err := s.ListDocuments(ctx, "acme", ragqueue.DocumentFilter{Status: "done"})
	requireCode(t, ragqueue.EINVALID, err)
}

func testDocumentSetStatus(t *testing.T, s Store) {
	ctx := context.Background()
	d := newDoc("acme", "a")
	d.CreatedAt = at(0)
	d.Version = 2
	d = create(t, s, d)

	requireCode(t, ragqueue.ENOTFOUND, s.SetDocumentStatus(ctx, "acme", d.ID, 1, ragqueue.StatusReady, ""))
	requireCode(t, ragqueue.ENOTFOUND, s.SetDocumentStatus(ctx, "acme", "nope", 2, ragqueue.StatusReady, ""))
	require.Equal(t, d, mustGet(t, s, "acme", d.ID), "a stale version changed the document")
	requireCode(t, ragqueue.EINVALID, s.SetDocumentStatus(ctx, "acme", d.ID, 2, "done", ""))

	require.NoError(t, s.SetDocumentStatus(ctx, "acme", d.ID, 2, ragqueue.StatusFailed, "parse: boom"))
	got := mustGet(t, s, "acme", d.ID)
	require.Equal(t, ragqueue.StatusFailed, got.Status)
	require.Equal(t, "parse: boom", got.Error)
	requireRecent(t, got.UpdatedAt)
	require.True(t, got.UpdatedAt.After(d.UpdatedAt))
	requireTime(t, d.CreatedAt, got.CreatedAt)

	require.NoError(t, s.SetDocumentStatus(ctx, "acme", d.ID, 2, ragqueue.StatusReady, ""))
	got = mustGet(t, s, "acme", d.ID)
	require.Equal(t, ragqueue.StatusReady, got.Status)
	require.Empty(t, got.Error)
}

func testDocumentSetCounts(t *testing.T, s Store) {
	ctx := context.Background()
	d := newDoc("acme", "a")
	d.CreatedAt = at(0)
	d = create(t, s, d)

	// The counts are recorded with the chunks, under the same version guard.
	requireCode(t, ragqueue.ENOTFOUND, s.ReplaceChunks(ctx, "acme", d.ID, 2, 5, makeChunks(d.ID, 2, 6, "x")))
	requireCode(t, ragqueue.ENOTFOUND, s.ReplaceChunks(ctx, "acme", "nope", 1, 5, makeChunks("nope", 1, 6, "x")))
	require.Equal(t, d, mustGet(t, s, "acme", d.ID))

	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 5, makeChunks(d.ID, 1, 6, "x")))
	requireCode(t, ragqueue.ENOTFOUND, s.SetDocumentTitle(ctx, "globex", d.ID, 1, "stolen"))
	requireCode(t, ragqueue.ENOTFOUND, s.SetDocumentTitle(ctx, "acme", d.ID, 2, "stale"))
	require.NoError(t, s.SetDocumentTitle(ctx, "acme", d.ID, 1, "Parsed title"))
	got := mustGet(t, s, "acme", d.ID)
	require.Equal(t, "Parsed title", got.Title)
	require.Equal(t, 5, got.Pages)
	require.Equal(t, 6, got.Chunks)
	require.Equal(t, d.Status, got.Status)
	require.True(t, got.UpdatedAt.After(d.UpdatedAt))
}

func testDocumentDelete(t *testing.T, s Store) {
	ctx := context.Background()
	d := create(t, s, newDoc("acme", "a"))
	keep := create(t, s, newDoc("acme", "b"))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", d.ID, 1, 0, makeChunks(d.ID, 1, 5, "a")))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", keep.ID, 1, 0, makeChunks(keep.ID, 1, 2, "b")))

	keys, err := s.DeleteDocument(ctx, "acme", d.ID)
	require.NoError(t, err)
	require.Equal(t, []string{d.BlobKey}, keys, "the caller deletes the bytes it is handed")
	_, err = s.GetDocument(ctx, "acme", d.ID)
	requireCode(t, ragqueue.ENOTFOUND, err)
	chunks, err := s.ListChunks(ctx, "acme", d.ID, 1)
	require.NoError(t, err)
	require.Empty(t, chunks, "chunks outlived their document")
	_, err = s.DeleteDocument(ctx, "acme", d.ID)
	requireCode(t, ragqueue.ENOTFOUND, err)

	chunks, err = s.ListChunks(ctx, "acme", keep.ID, 1)
	require.NoError(t, err)
	require.Len(t, chunks, 2)

	// The same bytes can be uploaded again, with the same chunk ids.
	again := create(t, s, newDoc("acme", "a"))
	require.NoError(t, s.ReplaceChunks(ctx, "acme", again.ID, 1, 0, makeChunks(again.ID, 1, 5, "a")))
}

func testDocumentUnfinished(t *testing.T, s Store) {
	ctx := context.Background()
	statuses := []ragqueue.Status{
		ragqueue.StatusQueued, ragqueue.StatusReady, ragqueue.StatusProcessing, ragqueue.StatusFailed,
		ragqueue.StatusRejected, ragqueue.StatusQueued,
	}
	var want []string
	for i, st := range statuses {
		tenant := []string{"acme", "globex"}[i%2]
		d := newDoc(tenant, fmt.Sprint(i))
		d.Status = st
		d.CreatedAt = at(100 - 10*i) // later seeds are older
		create(t, s, d)
		if st == ragqueue.StatusQueued || st == ragqueue.StatusProcessing {
			want = append([]string{d.ID}, want...)
		}
	}
	docs, err := s.UnfinishedDocuments(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, want, ids(docs))
	docs, err = s.UnfinishedDocuments(ctx, 2)
	require.NoError(t, err)
	require.Equal(t, want[:2], ids(docs))
	docs, err = s.UnfinishedDocuments(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, want, ids(docs))
}

func testDocumentReady(t *testing.T, s Store) {
	ctx := context.Background()
	statuses := []ragqueue.Status{
		ragqueue.StatusReady, ragqueue.StatusQueued, ragqueue.StatusReady, ragqueue.StatusFailed, ragqueue.StatusReady, ragqueue.StatusReady,
	}
	var want []string
	for i, st := range statuses {
		d := newDoc([]string{"acme", "globex"}[i%2], fmt.Sprint(i))
		d.ID = fmt.Sprintf("doc-%02d", len(statuses)-i) // IDs in the reverse order of creation
		d.Status = st
		create(t, s, d)
		if st == ragqueue.StatusReady {
			want = append([]string{d.ID}, want...)
		}
	}
	docs, err := s.ReadyDocuments(ctx, "", 0)
	require.NoError(t, err)
	require.Equal(t, want, ids(docs), "every tenant, in ID order")
	var walked []string
	for after := ""; ; {
		page, err := s.ReadyDocuments(ctx, after, 3)
		require.NoError(t, err)
		if len(page) == 0 {
			break
		}
		require.LessOrEqual(t, len(page), 3)
		walked = append(walked, ids(page)...)
		after = page[len(page)-1].ID
	}
	require.Equal(t, want, walked)
}
