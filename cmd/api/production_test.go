package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestSeparateWorkerWithRedisAndPostgres runs the production shape: the api
// only serves HTTP, a separate worker process (the real cmd/worker binary)
// runs the jobs, against a real redis-server and PostgreSQL.
func TestSeparateWorkerWithRedisAndPostgres(t *testing.T) {
	t.Parallel()
	needServers(t)
	redisOpt := testRedis.NewDB(t)
	env := map[string]string{
		"RAGQ_REDIS_URL":    fmt.Sprintf("redis://%s/%d", redisOpt.Addr, redisOpt.DB),
		"RAGQ_DATABASE_URL": testPG.NewDatabase(t),
		// Small enough that the Flate bomb below is refused for memory.
		"RAGQ_PDF_MAX_MEMORY_BYTES": "67108864",
	}
	b := setup(t, env)

	// Nothing runs jobs yet: the upload stays queued.
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
		map[string]any{"title": "Rivers", "text": "The Danube flows through ten countries before reaching the Black Sea."}, &up))
	id := up.Documents[0].ID
	var d docResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents/"+id, testAdminKey, nil, "", &d))
	require.Equal(t, "queued", d.Status)

	// Start the worker binary with the same configuration.
	bin := filepath.Join(t.TempDir(), "worker")
	build := exec.Command("go", "build", "-o", bin, "github.com/ragqueue/ragqueue/cmd/worker")
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := exec.CommandContext(ctx, bin)
	w.Env = os.Environ()
	for k, v := range b.env {
		w.Env = append(w.Env, k+"="+v)
	}
	w.Cancel = func() error { return w.Process.Signal(syscall.SIGTERM) }
	w.WaitDelay = 20 * time.Second
	require.NoError(t, w.Start())
	t.Cleanup(func() {
		cancel()
		_ = w.Wait()
	})

	require.Equal(t, "ready", b.waitStatus(t, testAdminKey, id).Status)
	var ans answerResp
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey,
		map[string]any{"question": "Where does the Danube flow?"}, &ans))
	require.Contains(t, ans.Answer, "Black Sea")
	require.Equal(t, id, ans.Citations[0].DocumentID)

	// Hostile PDFs are rejected by the worker's sandboxed parser, and the
	// worker process itself goes on.
	for name, pdf := range map[string]string{"bomb.pdf": bombPDF(t, 96<<20), "cyclic.pdf": readFixture(t, "cyclic.pdf")} {
		body, ct := multipartBody(t, []filePart{{name: name, body: pdf}}, "")
		var hup uploadResp
		require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &hup))
		hd := b.waitStatus(t, testAdminKey, hup.Documents[0].ID)
		require.Equal(t, "rejected", hd.Status, name)
		t.Logf("%s: %s", name, hd.Error)
	}
	require.True(t, processAlive(t, w.Process.Pid), "the worker process must survive hostile PDFs")
	body, ct := multipartBody(t, []filePart{{name: "report.pdf", body: readFixture(t, "report.pdf")}}, "")
	var pup uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, body, ct, &pup))
	require.Equal(t, "ready", b.waitStatus(t, testAdminKey, pup.Documents[0].ID).Status)

	// The api process searches the index the worker wrote.
	var sr searchResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q=Danube", testAdminKey, nil, "", &sr))
	require.NotEmpty(t, sr.Results)
	require.Equal(t, id, sr.Results[0].DocumentID)
}

// TestReadyzAndQueueDown: with Redis unreachable, /readyz says so with 503,
// and an upload is still recorded (the database is the truth) for the
// reconciler to enqueue once Redis is back.
func TestReadyzAndQueueDown(t *testing.T) {
	t.Parallel()
	// A port that stays ours but hangs up on every connection: a closed
	// port could be taken meanwhile by another test's server.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			_ = conn.Close()
		}
	}()
	deadAddr := ln.Addr().String()
	b := setup(t, map[string]string{"RAGQ_REDIS_URL": "redis://" + deadAddr + "/0"})

	var ready struct {
		Status string            `json:"status"`
		Checks map[string]string `json:"checks"`
	}
	require.Equal(t, http.StatusServiceUnavailable, b.do(t, http.MethodGet, "/readyz", "", nil, "", &ready))
	require.Equal(t, "unavailable", ready.Checks["redis"])
	require.Equal(t, "ok", ready.Checks["database"])
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/healthz", "", nil, "", nil))

	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
		map[string]any{"text": "Recorded even while the queue is down."}, &up))
	var d docResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents/"+up.Documents[0].ID, testAdminKey, nil, "", &d))
	require.Equal(t, "queued", d.Status)

	// Queries need the queue: a clear 503, not a 500.
	var e apiError
	require.Equal(t, http.StatusServiceUnavailable, b.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey,
		map[string]any{"question": "anything?"}, &e))
	require.Equal(t, "unavailable", e.Error.Code)
}

// TestSyncQueryTimeout: a sync query that outlives RAGQ_QUERY_TIMEOUT answers
// 504 with the job id to poll, and the job still finishes.
func TestSyncQueryTimeout(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"RAGQ_QUERY_TIMEOUT": "1ns"})
	var e apiError
	require.Equal(t, http.StatusGatewayTimeout, b.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey,
		map[string]any{"question": "is anyone there?"}, &e))
	require.Equal(t, "timeout", e.Error.Code)
	require.NotEmpty(t, e.JobID)
	require.Contains(t, e.Error.Message, e.JobID)
	var job struct {
		State string `json:"state"`
	}
	require.Eventually(t, func() bool {
		b.do(t, http.MethodGet, "/v1/jobs/"+e.JobID, testAdminKey, nil, "", &job)
		return job.State == "succeeded"
	}, 30*time.Second, 20*time.Millisecond)
}

// processAlive reports whether pid runs and is not a zombie (a dead child
// nobody has waited for yet still answers signal 0).
func processAlive(t *testing.T, pid int) bool {
	t.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	rest := raw[bytes.LastIndexByte(raw, ')')+1:]
	return len(bytes.TrimSpace(rest)) > 0 && bytes.TrimSpace(rest)[0] != 'Z'
}
