package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs/keys"
)

// TestRestartRequeuesUnfinishedDocuments: a document the database says is
// queued, with no task anywhere (the process died before enqueueing, or the
// in-memory Redis was lost), is ingested after the next start.
func TestRestartRequeuesUnfinishedDocuments(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.stop(t)

	// While nothing runs, record a queued document directly in the stores.
	var doc ragqueue.Document
	b.whileStopped(t, func(ctx context.Context, a *app.App) {
		text := "Penguins huddle together to survive the Antarctic winter."
		info, err := a.Services().Documents.StoreBytes(ctx, strings.NewReader(text), 0)
		require.NoError(t, err)
		now := time.Now().UTC()
		var created bool
		doc, created, err = a.Store().CreateDocument(ctx, ragqueue.Document{
			ID: uuid.NewString(), Tenant: keys.DefaultTenant, Title: "Penguins", Source: "text",
			ContentType: ingest.TypeText, SHA256: info.SHA256, Size: info.Size, BlobKey: info.Key,
			Status: ragqueue.StatusQueued, Version: 1, JobID: uuid.NewString(), CreatedAt: now, UpdatedAt: now,
		})
		require.NoError(t, err)
		require.True(t, created)
	})

	b.start(t)
	d := b.waitStatus(t, testAdminKey, doc.ID)
	require.Equal(t, "ready", d.Status, d.Error)
	var sr searchResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q=penguins+huddle", testAdminKey, nil, "", &sr))
	require.NotEmpty(t, sr.Results)
	require.Equal(t, doc.ID, sr.Results[0].DocumentID)
}

// whileStopped opens a stopped bundle's stores as its next start will find
// them, runs fn on them and closes them again.
func (b *testBundle) whileStopped(t testing.TB, fn func(ctx context.Context, a *app.App)) {
	t.Helper()
	cfg, err := app.LoadConfig(func(k string) string { return b.env[k] })
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a, err := app.Open(ctx, cfg, discardLogger())
	require.NoError(t, err)
	fn(ctx, a)
	require.NoError(t, a.Close())
}
