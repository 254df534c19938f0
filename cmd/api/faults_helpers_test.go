package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/storage/sqlite"
)

// Helpers for the fault-injection tests: the real cmd/worker binary as a
// child process that can be killed, document counts by status, and what the
// embedded index file holds for a document.

// buildWorker builds cmd/worker into a temp dir and returns its path.
func buildWorker(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "worker")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/ragqueue/ragqueue/cmd/worker").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return bin
}

// workerProc is a running cmd/worker process.
type workerProc struct {
	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited and was waited for
	stderr string        // path of its log file
}

// startWorker runs the worker binary with env (on top of this process's
// environment), logging to a file that is printed if the test fails. The
// process gets SIGTERM, then SIGKILL, when the test ends.
func startWorker(t testing.TB, bin string, env map[string]string) *workerProc {
	t.Helper()
	logFile, err := os.CreateTemp(t.TempDir(), "worker-*.log")
	require.NoError(t, err)
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A test binary that dies takes the worker with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	w := &workerProc{cmd: cmd, done: make(chan struct{}), stderr: logFile.Name()}
	go func() {
		_ = cmd.Wait()
		_ = logFile.Close()
		close(w.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-w.done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-w.done
		}
		if t.Failed() {
			raw, _ := os.ReadFile(w.stderr)
			t.Logf("worker %d log (tail):\n%s", cmd.Process.Pid, tailString(string(raw), 4000))
		}
	})
	return w
}

// kill9 kills the worker with SIGKILL, as a crash or an OOM kill would, and
// waits until it is gone.
func (w *workerProc) kill9(t testing.TB) {
	t.Helper()
	require.NoError(t, w.cmd.Process.Signal(syscall.SIGKILL))
	select {
	case <-w.done:
	case <-time.After(30 * time.Second):
		t.Fatal("the killed worker did not exit")
	}
}

func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

// listDocs returns all of the tenant's documents (one page of up to 500).
func (b *testBundle) listDocs(t testing.TB, key string) []docResp {
	t.Helper()
	var out struct {
		Documents []docResp `json:"documents"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents?limit=500", key, nil, "", &out))
	return out.Documents
}

// statusCounts counts documents by status.
func statusCounts(docs []docResp) map[string]int {
	out := map[string]int{}
	for _, d := range docs {
		out[d.Status]++
	}
	return out
}

// indexCounts says what the embedded index file of a bundle running with
// PostgreSQL (DATA_DIR/index.db) holds for a document in the live space:
// searchable rows, distinct chunk positions among them, and staged rows.
type indexCounts struct {
	Rows, DistinctIdx, Staged int
}

func (b *testBundle) indexOf(t testing.TB, file, docID string) indexCounts {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(b.dataDir, file))
	require.NoError(t, err)
	defer db.Close()
	var c indexCounts
	require.NoError(t, db.SQL().QueryRow(`
		SELECT coalesce(sum(staged = 0), 0), count(DISTINCT CASE WHEN staged = 0 THEN idx END), coalesce(sum(staged <> 0), 0)
		FROM index_chunks WHERE document_id = ? AND space_id = (SELECT sid FROM index_live)`, docID).
		Scan(&c.Rows, &c.DistinctIdx, &c.Staged))
	return c
}

// readyz returns /readyz's status and checks.
func (b *testBundle) readyz(t testing.TB) (int, map[string]string) {
	t.Helper()
	var r struct {
		Checks map[string]string `json:"checks"`
	}
	code := b.do(t, http.MethodGet, "/readyz", "", nil, "", &r)
	return code, r.Checks
}

// ledgerText is document i of a fault test: unique (so no upload is a
// duplicate), several chunks long at RAGQ_CHUNK_SIZE=200, and sharing the
// word "ledger" so that one search can reach every document.
func ledgerText(i int) string {
	var sb strings.Builder
	for p := range 4 {
		fmt.Fprintf(&sb, "Ledger %d, paragraph %d: the warehouse in district %d counted %d crates of copper wire and %d spools of cable on shelf %d.\n\n",
			i, p, i*7+p, 100+i*13+p, 40+i*3+p, i%9+p)
	}
	return sb.String()
}
