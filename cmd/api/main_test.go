package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
	"github.com/ragqueue/ragqueue/ingest/pdf"
	"github.com/ragqueue/ragqueue/storage/postgres/pgtest"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// Shared servers for this package: one redis-server and one PostgreSQL
// cluster, each test taking its own Redis DB and database.
var (
	testRedis *redistest.Server
	testPG    *pgtest.Cluster
	startErr  error
)

func TestMain(m *testing.M) {
	// The PDF parser re-executes this test binary as its sandboxed child.
	if pdf.IsChild() {
		os.Exit(pdf.ChildMain())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	var err error
	if testRedis, err = redistest.Start(ctx); err != nil {
		startErr = fmt.Errorf("redis-server: %w", err)
	}
	if startErr == nil {
		if testPG, err = pgtest.Start(ctx); err != nil {
			startErr = fmt.Errorf("postgres: %w", err)
		}
	}
	cancel()
	if startErr != nil && os.Getenv("CI") == "true" {
		fmt.Fprintln(os.Stderr, "cmd/api tests: cannot start test servers in CI:", startErr)
		os.Exit(1)
	}
	code := m.Run()
	if testPG != nil {
		testPG.Stop()
	}
	if testRedis != nil {
		testRedis.Stop()
	}
	os.Exit(code)
}

// needServers skips (outside CI) when the real servers could not be started.
func needServers(t testing.TB) {
	t.Helper()
	if startErr != nil {
		t.Skipf("real servers unavailable: %v", startErr)
	}
}

const testAdminKey = "rq_test_admin_key_0123456789abcdefghijklmnop"

// testBundle is one running API and a client for it.
type testBundle struct {
	inst    *instance
	base    string
	env     map[string]string
	opts    []app.Option
	http    *http.Client
	dataDir string
	// logs holds the app's JSON log lines (at RAGQ_LOG_LEVEL, warn unless
	// the test says otherwise).
	logs lockedBuffer
}

// lockedBuffer is a bytes.Buffer safe for the app's concurrent writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// setup starts an API on a free loopback port with env on top of test
// defaults (embedded mode, a temp data dir, a known admin key), applying
// opts to the app before it serves.
func setup(t testing.TB, env map[string]string, opts ...app.Option) *testBundle {
	t.Helper()
	full := map[string]string{
		"RAGQ_ADDR":               "127.0.0.1:0",
		"RAGQ_DATA_DIR":           t.TempDir(),
		"RAGQ_ADMIN_KEY":          testAdminKey,
		"RAGQ_WORKER_CONCURRENCY": "4",
		"RAGQ_SHUTDOWN_TIMEOUT":   "5s",
		"RAGQ_LOG_LEVEL":          "warn",
		// Tests poll fast; rate limits are tested on their own.
		"RAGQ_RATE_LIMIT_RPS":           "0",
		"RAGQ_RATE_LIMIT_EXPENSIVE_RPM": "0",
	}
	for k, v := range env {
		full[k] = v
	}
	b := &testBundle{env: full, opts: opts, http: &http.Client{Timeout: 60 * time.Second}, dataDir: full["RAGQ_DATA_DIR"]}
	b.start(t)
	return b
}

func (b *testBundle) start(t testing.TB) {
	t.Helper()
	cfg, err := app.LoadConfig(func(k string) string { return b.env[k] })
	require.NoError(t, err)
	logger := slog.New(slog.NewJSONHandler(&b.logs, &slog.HandlerOptions{Level: cfg.LogLevel}))
	inst, err := start(context.Background(), cfg, logger, io.Discard, b.opts...)
	require.NoError(t, err)
	b.inst = inst
	b.base = "http://" + inst.Addr()
	t.Cleanup(func() { b.stop(t) })
}

func (b *testBundle) stop(t testing.TB) {
	t.Helper()
	if b.inst == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	require.NoError(t, b.inst.shutdown(ctx))
	b.inst = nil
}

// call sends a request and returns its status and raw answer.
func (b *testBundle) call(t testing.TB, method, path, key string, body io.Reader, contentType string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, b.base+path, body)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := b.http.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, raw
}

// do sends a request and decodes a JSON answer into out (when non-nil).
func (b *testBundle) do(t testing.TB, method, path, key string, body io.Reader, contentType string, out any) int {
	t.Helper()
	code, raw := b.call(t, method, path, key, body, contentType)
	if out != nil && len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, out), "body: %s", raw)
	}
	return code
}

func (b *testBundle) doJSON(t testing.TB, method, path, key string, in, out any) int {
	t.Helper()
	return b.do(t, method, path, key, jsonBody(t, in), "application/json", out)
}

// jsonBody encodes in as a request body; nil is no body.
func jsonBody(t testing.TB, in any) io.Reader {
	t.Helper()
	if in == nil {
		return nil
	}
	raw, err := json.Marshal(in)
	require.NoError(t, err)
	return bytes.NewReader(raw)
}

// filePart is one file of a multipart upload.
type filePart struct {
	name, contentType, body string
}

func multipartBody(t testing.TB, files []filePart, metadata string) (io.Reader, string) {
	t.Helper()
	return writeMultipart(t, files, metadata, true)
}

// writeMultipart builds a multipart upload of files and, unless metadata is
// "", a metadata part before or after them.
func writeMultipart(t testing.TB, files []filePart, metadata string, metadataFirst bool) (io.Reader, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if metadata != "" && metadataFirst {
		require.NoError(t, w.WriteField("metadata", metadata))
	}
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, f.name))
		if f.contentType != "" {
			h.Set("Content-Type", f.contentType)
		}
		pw, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = io.WriteString(pw, f.body)
		require.NoError(t, err)
	}
	if metadata != "" && !metadataFirst {
		require.NoError(t, w.WriteField("metadata", metadata))
	}
	require.NoError(t, w.Close())
	return &buf, w.FormDataContentType()
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	JobID string `json:"job_id"`
}

type uploadResp struct {
	Documents []struct {
		ID        string `json:"id"`
		Status    string `json:"status"`
		JobID     string `json:"job_id"`
		Duplicate bool   `json:"duplicate"`
		Filename  string `json:"filename"`
		Error     *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"documents"`
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
}

type docResp struct {
	ID          string          `json:"id"`
	Version     int             `json:"version"`
	JobID       string          `json:"job_id"`
	Title       string          `json:"title"`
	Source      string          `json:"source"`
	ContentType string          `json:"content_type"`
	SHA256      string          `json:"sha256"`
	Status      string          `json:"status"`
	Error       string          `json:"error"`
	Pages       int             `json:"pages"`
	Chunks      int             `json:"chunks"`
	Metadata    json.RawMessage `json:"metadata"`
	CreatedAt   time.Time       `json:"created_at"`
	UpdatedAt   time.Time       `json:"updated_at"`
}

// waitStatus polls a document until it reaches a terminal status.
func (b *testBundle) waitStatus(t testing.TB, key, id string) docResp {
	t.Helper()
	var d docResp
	require.Eventually(t, func() bool {
		d = docResp{}
		code := b.do(t, http.MethodGet, "/v1/documents/"+id, key, nil, "", &d)
		return code == http.StatusOK && (d.Status == "ready" || d.Status == "failed" || d.Status == "rejected")
	}, 60*time.Second, 20*time.Millisecond, "document %s never finished", id)
	return d
}

// newKey creates a key with the admin key and returns its secret.
func (b *testBundle) newKey(t testing.TB, tenant, role string) string {
	t.Helper()
	var out struct {
		Key string `json:"key"`
	}
	require.Equal(t, http.StatusCreated, b.doJSON(t, http.MethodPost, "/v1/admin/keys", testAdminKey,
		map[string]string{"tenant": tenant, "role": role}, &out))
	require.True(t, strings.HasPrefix(out.Key, "rq_"))
	return out.Key
}

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
