package documents_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs/documents"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// TestCreateDocumentDeletesUnusedBytes: the bytes stored for a document
// that is not created (the tenant already holds them, or the store refuses
// it) are deleted; those of a created document stay.
func TestCreateDocumentDeletesUnusedBytes(t *testing.T) {
	t.Parallel()
	e := newEnv(t, redistest.Miniredis(t))
	ctx := t.Context()
	newDoc := func(text string) ragqueue.Document {
		info, err := e.Blobs.Put(ctx, strings.NewReader(text), 0)
		require.NoError(t, err)
		return ragqueue.Document{Tenant: "acme", Title: "t", Source: "upload:t.txt", ContentType: ingest.TypeText,
			SHA256: info.SHA256, Size: info.Size, BlobKey: info.Key, Version: 1, JobID: uuid.NewString()}
	}
	stored := func(key string) bool {
		rc, err := e.Blobs.Open(ctx, key)
		if err == nil {
			_ = rc.Close()
		}
		return err == nil
	}

	first := newDoc("the same words")
	doc, created, err := documents.CreateDocument(ctx, e.Store, e.Blobs, first, t.Logf)
	require.NoError(t, err)
	require.True(t, created)
	require.True(t, stored(first.BlobKey))

	again := newDoc("the same words")
	dup, created, err := documents.CreateDocument(ctx, e.Store, e.Blobs, again, t.Logf)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, doc.ID, dup.ID)
	require.False(t, stored(again.BlobKey), "the duplicate's bytes are deleted")
	require.True(t, stored(first.BlobKey))

	refused := newDoc("other words")
	refused.Status = "bogus"
	_, _, err = documents.CreateDocument(ctx, e.Store, e.Blobs, refused, t.Logf)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.False(t, stored(refused.BlobKey), "a refused document's bytes are deleted")
}
