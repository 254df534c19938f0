package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/storage/postgres/pgtest"
)

// TestPostgresOutage stops a dedicated PostgreSQL cluster while the api
// serves and a document is in the middle of its ingestion: requests that
// need the database fail with 503 and a JSON error (never 500, never a
// stack trace), none answers 500, /readyz names the database, the document
// caught in flight is not marked ready while its state cannot be written,
// and once PostgreSQL is back the same api process serves again and the
// document ends ready with its chunks in the index.
func TestPostgresOutage(t *testing.T) {
	t.Parallel()
	needServers(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pg, err := pgtest.Start(ctx)
	if err != nil {
		if pgtest.InCI() {
			t.Fatalf("dedicated PostgreSQL: %v", err)
		}
		t.Skipf("dedicated PostgreSQL: %v", err)
	}
	t.Cleanup(pg.Stop)
	redisOpt := testRedis.NewDB(t)
	emb := newTestEmbedder()
	b := setup(t, map[string]string{
		"RAGQ_REDIS_URL":    fmt.Sprintf("redis://%s/%d", redisOpt.Addr, redisOpt.DB),
		"RAGQ_DATABASE_URL": pg.NewDatabase(t),
		"RAGQ_RUN_WORKERS":  "true",
		"RAGQ_CHUNK_SIZE":   "200",
	}, emb.option())
	writer := b.newKey(t, "ledgers", "writer")

	readyID, _ := b.postText(t, writer, "Ledger 0", ledgerText(0))
	require.Equal(t, "ready", b.waitStatus(t, writer, readyID).Status)
	// This one waits in the embedder until the database is down.
	heldID, _ := b.postText(t, writer, "Held ledger", ledgerText(1)+" "+holdMarker)
	emb.waitHeld(t)

	require.NoError(t, pg.Pause())
	// Requests that cannot be served without the database.
	mustFail := []struct {
		name, method, path, key string
		body                    any
	}{
		{"list documents", http.MethodGet, "/v1/documents", writer, nil},
		{"get document", http.MethodGet, "/v1/documents/" + readyID, writer, nil},
		{"upload", http.MethodPost, "/v1/documents", writer, map[string]any{"text": "written during the outage"}},
		{"list documents, admin key", http.MethodGet, "/v1/documents", testAdminKey, nil},
		{"list keys", http.MethodGet, "/v1/admin/keys", testAdminKey, nil},
	}
	for _, tc := range mustFail {
		// assert, not require: one wrong status should not hide the others
		// nor what happens after the outage.
		code, body := rawCall(t, b, tc.method, tc.path, tc.key, tc.body)
		assert.Equal(t, http.StatusServiceUnavailable, code, "%s: %s", tc.name, body)
		checkCleanError(t, tc.name, body, "unavailable")
	}
	// Requests that may still work (the index is not in PostgreSQL) but
	// must never answer 500.
	mayWork := []struct {
		name, method, path, key string
		body                    any
	}{
		{"search", http.MethodGet, "/v1/search?q=" + url.QueryEscape("copper wire"), writer, nil},
		{"query", http.MethodPost, "/v1/queries", writer, map[string]any{"question": "How much copper wire?"}},
		{"job", http.MethodGet, "/v1/jobs/00000000-0000-0000-0000-000000000000", writer, nil},
	}
	for _, tc := range mayWork {
		code, body := rawCall(t, b, tc.method, tc.path, tc.key, tc.body)
		assert.Contains(t, []int{http.StatusOK, http.StatusNotFound, http.StatusServiceUnavailable, http.StatusGatewayTimeout}, code, "%s: %s", tc.name, body)
		if code >= 500 {
			checkCleanError(t, tc.name, body, "")
		}
	}
	code, checks := b.readyz(t)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Equal(t, "unavailable", checks["database"])

	// The held document goes on while the database is away: its state
	// cannot be recorded, so it must not be ready when the database is back.
	close(emb.release)
	time.Sleep(3 * time.Second) // let its attempts meet the outage; nothing is asserted on this
	require.NoError(t, pg.Resume(ctx))

	// The same api process serves again.
	require.Eventually(t, func() bool {
		code, _ := rawCall(t, b, http.MethodGet, "/v1/documents", writer, nil)
		return code == http.StatusOK
	}, time.Minute, 100*time.Millisecond, "the api serves again once PostgreSQL is back")
	require.Eventually(t, func() bool { code, _ := b.readyz(t); return code == http.StatusOK }, time.Minute, 100*time.Millisecond)

	// Nothing is ready that is not: every ready document has its chunks.
	held := b.waitStatus(t, writer, heldID)
	require.Equal(t, "ready", held.Status, held.Error)
	for _, id := range []string{readyID, heldID} {
		var d docResp
		require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents/"+id, writer, nil, "", &d))
		require.Equal(t, "ready", d.Status)
		require.Equal(t, indexCounts{Rows: d.Chunks, DistinctIdx: d.Chunks}, b.indexOf(t, "index.db", id), "document %s", id)
	}
	id, _ := b.postText(t, writer, "After the outage", ledgerText(2))
	require.Equal(t, "ready", b.waitStatus(t, writer, id).Status)
}

// rawCall sends in (when not nil) as JSON and returns the status and raw
// body.
func rawCall(t testing.TB, b *testBundle, method, path, key string, in any) (int, string) {
	t.Helper()
	contentType := ""
	if in != nil {
		contentType = "application/json"
	}
	code, raw := b.call(t, method, path, key, jsonBody(t, in), contentType)
	return code, string(raw)
}

// checkCleanError checks that body is a JSON error (with code, when not
// "") that gives away no internals: no stack trace, no Go source position,
// no driver message.
func checkCleanError(t testing.TB, name, body, code string) {
	t.Helper()
	var e apiError
	if !assert.NoError(t, json.Unmarshal([]byte(body), &e), "%s: %s", name, body) {
		return
	}
	assert.NotEmpty(t, e.Error.Message, "%s: %s", name, body)
	if code != "" {
		assert.Equal(t, code, e.Error.Code, "%s: %s", name, body)
	}
	for _, leak := range []string{"goroutine", "panic", "runtime.", ".go:", "pgx", "pgconn", "SQLSTATE", "dial tcp", "127.0.0.1"} {
		assert.NotContains(t, body, leak, "%s: the error gives away internals", name)
	}
}
