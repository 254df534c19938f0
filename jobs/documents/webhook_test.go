package documents_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
)

// receiver is a webhook endpoint on loopback that checks signatures the way
// the README tells users to, and can fail the first attempts.
type receiver struct {
	srv      *httptest.Server
	secret   []byte
	failures atomic.Int32 // answer 500 this many times first
	mu       sync.Mutex
	got      []jobs.WebhookPayload
	bad      []string
}

func newReceiver(t *testing.T, secret []byte) *receiver {
	r := &receiver{secret: secret}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if r.failures.Add(-1) >= 0 {
			http.Error(w, "busy", http.StatusInternalServerError)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := verify(r.secret, req.Header.Get(jobs.WebhookSignatureHeader), body, time.Now()); err != "" {
			r.bad = append(r.bad, err)
			http.Error(w, err, http.StatusUnauthorized)
			return
		}
		var p jobs.WebhookPayload
		if err := json.Unmarshal(body, &p); err != nil {
			r.bad = append(r.bad, err.Error())
			return
		}
		r.got = append(r.got, p)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// verify checks a Ragqueue-Signature header: t=<unix>,v1=<hex HMAC-SHA256
// of "<t>.<body>">, at most five minutes old. It returns what is wrong.
func verify(secret []byte, header string, body []byte, now time.Time) string {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(sec, 0)) > 5*time.Minute {
		return "bad or old timestamp"
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "." + string(body)))
	want := hex.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return "bad signature"
	}
	return ""
}

func (r *receiver) payloads() ([]jobs.WebhookPayload, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]jobs.WebhookPayload(nil), r.got...), append([]string(nil), r.bad...)
}

func (r *receiver) port() uint16 {
	return uint16(r.srv.Listener.Addr().(*net.TCPAddr).Port)
}

// TestWebhooks checks that a job with a callback URL notifies it once it
// ends, signed, retried after a failing answer, and that a callback to an
// address the guard refuses receives nothing.
func TestWebhooks(t *testing.T) {
	t.Parallel()
	secret := []byte("webhook-secret-for-tests-0123")
	b := setupPipeline(t)
	recv := newReceiver(t, secret)
	recv.failures.Store(1) // the first delivery attempt gets a 500
	canary := newReceiver(t, secret)

	d := b.Deps(b.Asynq)
	d.InlineEmbedChunks = 0
	d.WebhookSecret = secret
	// Loopback is allowed for the receiver's port only: the canary's port
	// is refused by the guard.
	d.WebClient = web.NewClient(web.GuardOptions{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}, AllowedPorts: []uint16{recv.port()}})
	b.StartWorker(t, d)

	doc := b.AddDocumentOnly(t, b.tenant, ingest.TypeText, manual)
	require.NoError(t, b.EnqueueIngest(t.Context(), doc, jobs.WithCallback(recv.srv.URL+"/hook?x=1")))
	blocked := b.AddDocumentOnly(t, b.tenant, ingest.TypeText, manual+"\nBlocked appendix.")
	require.NoError(t, b.EnqueueIngest(t.Context(), blocked, jobs.WithCallback(canary.srv.URL+"/hook")))
	require.Equal(t, ragqueue.StateSucceeded, b.WaitJob(t, b.tenant, doc.JobID).State)
	require.Equal(t, ragqueue.StateSucceeded, b.WaitJob(t, b.tenant, blocked.JobID).State)

	delivered := assert.Eventually(t, func() bool {
		got, _ := recv.payloads()
		return len(got) == 1
	}, 30*time.Second, 20*time.Millisecond)
	if !delivered {
		// The queue as it is now, when the wait ran out.
		t.Fatalf("not delivered after the retry; maintenance queue: %s", debugQueue(b))
	}
	got, bad := recv.payloads()
	require.Empty(t, bad)
	require.Equal(t, "job.finished", got[0].Event)
	require.Equal(t, doc.JobID, got[0].Job.ID)
	require.Equal(t, ragqueue.StateSucceeded, got[0].Job.State)
	require.Equal(t, ragqueue.KindIngest, got[0].Job.Type)
	require.NotEmpty(t, got[0].Job.Result)

	// The refused callback never reaches its address, and is not retried.
	require.Eventually(t, func() bool {
		archived, err := b.Inspector.ListArchivedTasks(jobs.QueueMaintenance)
		return err == nil && len(archived) == 1 && strings.Contains(archived[0].LastErr, "refused")
	}, 30*time.Second, 20*time.Millisecond)
	canaryGot, canaryBad := canary.payloads()
	require.Empty(t, canaryGot)
	require.Empty(t, canaryBad)
	require.Equal(t, int32(0), canary.failures.Load(), "the canary received no request at all")
}

// debugQueue describes the maintenance queue's tasks, for a failure message.
func debugQueue(b *pipelineBundle) string {
	var out []string
	for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){b.Inspector.ListPendingTasks, b.Inspector.ListRetryTasks, b.Inspector.ListArchivedTasks, b.Inspector.ListCompletedTasks} {
		ts, err := list(jobs.QueueMaintenance)
		if err != nil {
			out = append(out, err.Error())
		}
		for _, ti := range ts {
			out = append(out, ti.Type+" "+ti.State.String()+" "+ti.LastErr)
		}
	}
	return strings.Join(out, "; ")
}
