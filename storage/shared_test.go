package storage_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

func TestCursorRoundTrip(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 21, 40, 0, 123456000, time.UTC)
	got, id, err := storage.DecodeCursor(storage.EncodeCursor(at, "doc-1"))
	require.NoError(t, err)
	require.True(t, got.Equal(at))
	require.Equal(t, "doc-1", id)
	for _, bad := range []string{"", "%%%", "bm90LWEtY3Vyc29y", "MTIzLg"} {
		_, _, err := storage.DecodeCursor(bad)
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), bad)
	}
}

func TestClampLimit(t *testing.T) {
	t.Parallel()
	for in, want := range map[int]int{-1: 50, 0: 50, 1: 1, 500: 500, 501: 500} {
		require.Equal(t, want, storage.ClampLimit(in), in)
	}
}

func TestScanLimit(t *testing.T) {
	t.Parallel()
	for in, want := range map[int]int{-1: 100, 0: 100, 1: 1, 1000: 1000} {
		require.Equal(t, want, storage.ScanLimit(in), in)
	}
}

func TestCheckDocumentStatus(t *testing.T) {
	t.Parallel()
	require.NoError(t, storage.CheckDocumentStatus(ragqueue.StatusReady))
	for _, bad := range []ragqueue.Status{"", "bogus"} {
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(storage.CheckDocumentStatus(bad)), bad)
	}
}

func TestPrepareDocument(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	d, meta, err := storage.PrepareDocument(ragqueue.Document{Tenant: "t", SHA256: "ab"}, now)
	require.NoError(t, err)
	require.NotEmpty(t, d.ID)
	require.Equal(t, ragqueue.StatusQueued, d.Status)
	require.Equal(t, now, d.CreatedAt)
	require.Equal(t, now, d.UpdatedAt)
	require.Equal(t, "{}", meta)
	for _, bad := range []ragqueue.Document{
		{SHA256: "ab"},
		{Tenant: "t"},
		{Tenant: "t", SHA256: "ab", Status: "done"},
		{Tenant: "t", SHA256: "ab", Metadata: []byte(`[1]`)},
	} {
		_, _, err := storage.PrepareDocument(bad, now)
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), "%+v", bad)
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	key := func(id string) (time.Time, string) { return at, id }

	rows, next := storage.Page([]string{"a", "b"}, 2, key)
	require.Equal(t, []string{"a", "b"}, rows)
	require.Empty(t, next)

	rows, next = storage.Page([]string{"a", "b", "c"}, 2, key)
	require.Equal(t, []string{"a", "b"}, rows)
	gotAt, id, err := storage.DecodeCursor(next)
	require.NoError(t, err)
	require.True(t, gotAt.Equal(at))
	require.Equal(t, "b", id)
}

func TestPrepareVersion(t *testing.T) {
	t.Parallel()
	meta, err := storage.PrepareVersion(ragqueue.Document{SHA256: "ab"})
	require.NoError(t, err)
	require.Nil(t, meta, "no metadata keeps the stored one")
	meta, err = storage.PrepareVersion(ragqueue.Document{SHA256: "ab", Metadata: []byte(` {"a":1} `)})
	require.NoError(t, err)
	require.Equal(t, `{"a":1}`, meta)
	for _, bad := range []ragqueue.Document{{}, {SHA256: "ab", Metadata: []byte(`[1]`)}} {
		_, err := storage.PrepareVersion(bad)
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), "%+v", bad)
	}
}
