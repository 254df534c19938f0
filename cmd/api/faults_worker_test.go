package main

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval/provider/providertest"
)

// TestKillWorkerMidIngest kills the real cmd/worker binary with SIGKILL
// while it embeds documents (the fake embedder holds its requests, so the
// moment is known), against real Redis and PostgreSQL: every document ends
// ready, each document's chunk count is exactly what the index holds for it
// (no duplicates, no holes), and a search returns no chunk twice — both when
// the work is finished by a worker started after the crash (its reconcile
// at start re-enqueues the unfinished documents) and when it is finished by
// a worker that was running all along (which has only Asynq's lease
// recovery: a minute or two). Then the dead worker's task, recovered by
// Asynq, runs once more and must change nothing. The time from the kill
// until every document is ready is logged.
func TestKillWorkerMidIngest(t *testing.T) {
	t.Parallel()
	needServers(t)
	if testing.Short() {
		t.Skip("waits for Asynq's lease recovery (one to two minutes)")
	}
	for _, tc := range []struct {
		name string
		// survivor: two workers run; the one embedding is killed and the
		// other finishes. Otherwise one worker runs and a new one starts
		// after the kill.
		survivor bool
	}{
		{name: "new worker after the crash"},
		{name: "surviving worker", survivor: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			killWorkerMidIngest(t, tc.survivor)
		})
	}
}

func killWorkerMidIngest(t *testing.T, survivor bool) {
	const (
		before = 10 // documents ingested before the kill
		during = 20 // documents being ingested when the worker dies
	)

	// The fake embedder answers until holding is set; then it holds every
	// embeddings request (reporting it on arrived) until release closes.
	var holding atomic.Bool
	release := make(chan struct{})
	var releaseOnce sync.Once
	unhold := func() { holding.Store(false); releaseOnce.Do(func() { close(release) }) }
	t.Cleanup(unhold)
	arrived := make(chan int, 256)
	fake := providertest.NewOpenAI(t, providertest.Options{Dim: 16, Arrived: arrived,
		Hold: func(_ int, path string) <-chan struct{} {
			if holding.Load() && strings.HasSuffix(path, "/embeddings") {
				return release
			}
			return nil
		}})

	redisOpt := testRedis.NewDB(t)
	b := setup(t, map[string]string{
		"RAGQ_REDIS_URL":          fmt.Sprintf("redis://%s/%d", redisOpt.Addr, redisOpt.DB),
		"RAGQ_DATABASE_URL":       testPG.NewDatabase(t),
		"RAGQ_EMBEDDER":           "openai:fake-embed",
		"OPENAI_BASE_URL":         fake.URL,
		"OPENAI_API_KEY":          "sk-test",
		"RAGQ_CHUNK_SIZE":         "200",
		"RAGQ_CHUNK_OVERLAP":      "20",
		"RAGQ_WORKER_CONCURRENCY": "4",
	})
	key := b.newKey(t, "ledgers", "writer")
	bin := buildWorker(t)

	jobOf := map[string]string{}
	upload := func(from, to int) []string {
		var ids []string
		for i := from; i < to; i++ {
			id, job := b.postText(t, key, fmt.Sprintf("Ledger %d", i), ledgerText(i))
			ids = append(ids, id)
			jobOf[id] = job
		}
		return ids
	}
	readyCount := func() int { return statusCounts(b.listDocs(t, key))["ready"] }

	insp := asynq.NewInspector(redisOpt)
	defer insp.Close()

	// The first documents are ingested normally.
	workers := map[int]*workerProc{}
	n := 1
	if survivor {
		n = 2
	}
	for range n {
		w := startWorker(t, bin, b.env)
		workers[w.cmd.Process.Pid] = w
	}
	ids := upload(0, before)
	require.Eventually(t, func() bool { return readyCount() == before }, 2*time.Minute, 100*time.Millisecond)

	// Then the embedder holds: the next documents get as far as embedding,
	// and the worker is killed while it waits on the provider.
	holding.Store(true)
	ids = append(ids, upload(before, before+during)...)
	select {
	case <-arrived:
	case <-time.After(2 * time.Minute):
		t.Fatal("the worker never asked the embedder for the new documents")
	}
	victim := embeddingWorker(t, insp, workers)
	victim.kill9(t)
	killed := time.Now()
	counts := statusCounts(b.listDocs(t, key))
	t.Logf("at kill -9: %v", counts)
	require.Less(t, counts["ready"], before+during, "the kill came before the end")
	require.Zero(t, counts["failed"]+counts["rejected"])

	// An embedder that answers again, and a new worker unless one survived.
	unhold()
	if !survivor {
		startWorker(t, bin, b.env)
	}
	require.Eventually(t, func() bool { return readyCount() == before+during }, 4*time.Minute, 250*time.Millisecond,
		"every document ends ready after the new worker starts")
	recovery := time.Since(killed)
	how := "a new worker started after the crash"
	if survivor {
		how = "a surviving worker"
	}
	t.Logf("recovery after kill -9 of a worker (%s): %s from the kill until all %d documents were ready (%d were unfinished at the kill)",
		how, recovery.Round(100*time.Millisecond), before+during, before+during-counts["ready"])

	checkExact := func(phase string) {
		t.Helper()
		// Exact chunk counts: the index holds each chunk of each document once.
		for _, id := range ids {
			var d docResp
			require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents/"+id, key, nil, "", &d))
			require.Equal(t, "ready", d.Status, phase)
			require.Greater(t, d.Chunks, 1, "several chunks per document")
			var j jobResp
			require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/jobs/"+jobOf[id], key, nil, "", &j))
			require.Equal(t, "succeeded", j.State, "%s: job of document %s: %s", phase, id, j.Error)
			got := b.indexOf(t, "index.db", id)
			require.Equal(t, indexCounts{Rows: d.Chunks, DistinctIdx: d.Chunks}, got, "%s: document %s (%s)", phase, id, d.Title)
		}
		// A search returns no chunk twice.
		var sr searchResp
		require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?top_k=100&q=ledger+copper+wire+crates", key, nil, "", &sr))
		require.NotEmpty(t, sr.Results)
		seen := map[string]bool{}
		for _, r := range sr.Results {
			k := r.DocumentID + "\x00" + r.Text
			require.False(t, seen[r.ChunkID], "%s: chunk %s returned twice", phase, r.ChunkID)
			require.False(t, seen[k], "%s: the same text of document %s returned twice", phase, r.DocumentID)
			seen[r.ChunkID], seen[k] = true, true
		}
	}
	checkExact("once all were ready")

	// The dead worker's task is still active in Redis: Asynq hands it back
	// once its lease has expired and the new worker runs it again. That late
	// run must change nothing.
	require.Eventually(t, func() bool {
		q, err := insp.GetQueueInfo(jobs.QueueIngest)
		if err != nil { // FailNow cannot run on Eventually's goroutine
			return false
		}
		return q.Active+q.Pending+q.Retry+q.Scheduled+q.Aggregating == 0
	}, 4*time.Minute, 500*time.Millisecond, "the dead worker's task is recovered and run")
	t.Logf("the dead worker's tasks were recovered and run %s after the kill", time.Since(killed).Round(100*time.Millisecond))
	q, err := insp.GetQueueInfo(jobs.QueueIngest)
	require.NoError(t, err)
	require.Zero(t, q.Archived, "no ingest task gave up")
	checkExact("after the dead worker's task ran again")
}

// embeddingWorker returns the worker that is running an embedding task,
// from what the Asynq servers report in their heartbeats.
func embeddingWorker(t *testing.T, insp *asynq.Inspector, workers map[int]*workerProc) *workerProc {
	t.Helper()
	var victim *workerProc
	require.Eventually(t, func() bool {
		servers, err := insp.Servers()
		if err != nil { // FailNow cannot run on Eventually's goroutine
			return false
		}
		for _, s := range servers {
			for _, a := range s.ActiveWorkers {
				if strings.HasPrefix(a.TaskType, "ingest:embed") && workers[s.PID] != nil {
					victim = workers[s.PID]
					return true
				}
			}
		}
		return false
	}, time.Minute, 100*time.Millisecond, "no worker reports an active embedding task")
	return victim
}
