package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs"
)

const testWebhookSecret = "whsec_test_0123456789abcdefghijklmnop"

// receiver is a webhook endpoint on loopback that fails the first failFirst
// deliveries with 503 and records every request.
type receiver struct {
	URL  string
	port string
	mu   sync.Mutex
	got  []receivedHook
	fail int
}

type receivedHook struct {
	signature string
	body      []byte
	verifyErr error
}

func newReceiver(t testing.TB, failFirst int) *receiver {
	r := &receiver{fail: failFirst}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		sig := req.Header.Get(jobs.WebhookSignatureHeader)
		r.mu.Lock()
		r.got = append(r.got, receivedHook{signature: sig, body: body,
			verifyErr: jobs.VerifyWebhook([]byte(testWebhookSecret), sig, body, time.Now(), 5*time.Minute)})
		n := len(r.got)
		r.mu.Unlock()
		if n <= r.fail {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	_, r.port, _ = net.SplitHostPort(srv.Listener.Addr().String())
	r.URL = srv.URL + "/hooks/ragqueue"
	return r
}

func (r *receiver) hooks() []receivedHook {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedHook(nil), r.got...)
}

// waitHooks waits until n deliveries arrived.
func (r *receiver) waitHooks(t testing.TB, n int) []receivedHook {
	t.Helper()
	require.Eventually(t, func() bool { return len(r.hooks()) >= n }, 45*time.Second, 20*time.Millisecond, "expected %d webhook deliveries", n)
	return r.hooks()
}

func webhookEnv(r *receiver) map[string]string {
	return map[string]string{
		"RAGQ_WEBHOOK_SECRET":      testWebhookSecret,
		"RAGQ_FETCH_ALLOW_CIDRS":   "127.0.0.0/8",
		"RAGQ_FETCH_ALLOWED_PORTS": r.port,
	}
}

type hookBody struct {
	Event string `json:"event"`
	Job   struct {
		ID     string          `json:"id"`
		Type   string          `json:"type"`
		State  string          `json:"state"`
		Result json.RawMessage `json:"result"`
	} `json:"job"`
}

// A query's end is posted, signed, and retried with backoff until the
// receiver takes it.
func TestWebhookQuerySignedAndRetried(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, 2)
	b := setup(t, webhookEnv(r))
	id, _ := b.postText(t, testAdminKey, "", eventsDoc)
	b.waitStatus(t, testAdminKey, id)

	var q struct {
		JobID string `json:"job_id"`
	}
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey,
		map[string]any{"question": "why does the sky look blue?", "mode": "async", "callback_url": r.URL}, &q))
	hooks := r.waitHooks(t, 3)
	require.Len(t, hooks, 3, "two failures, then one delivery, then nothing more")
	for _, h := range hooks {
		require.NoError(t, h.verifyErr, "signature %q", h.signature)
	}
	var body hookBody
	require.NoError(t, json.Unmarshal(hooks[2].body, &body))
	require.Equal(t, jobs.WebhookEvent, body.Event)
	require.Equal(t, q.JobID, body.Job.ID)
	require.Equal(t, "query", body.Job.Type)
	require.Equal(t, "succeeded", body.Job.State)
	require.Contains(t, string(body.Job.Result), "scatters short blue wavelengths")

	// A tampered body or another secret does not verify.
	tampered := append([]byte(nil), hooks[2].body...)
	tampered[len(tampered)-2] ^= 1
	require.Error(t, jobs.VerifyWebhook([]byte(testWebhookSecret), hooks[2].signature, tampered, time.Now(), 5*time.Minute))
	require.Error(t, jobs.VerifyWebhook([]byte("another-secret-0123456789abcdef"), hooks[2].signature, hooks[2].body, time.Now(), 5*time.Minute))
}

// Uploads (JSON and multipart) call back when their ingestion ends; a
// duplicate upload of a finished document calls back at once.
func TestWebhookUploads(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, 0)
	b := setup(t, webhookEnv(r))
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
		map[string]any{"text": "Water boils at 100 degrees Celsius at sea level.", "callback_url": r.URL}, &up))
	hooks := r.waitHooks(t, 1)
	var body hookBody
	require.NoError(t, json.Unmarshal(hooks[0].body, &body))
	require.NoError(t, hooks[0].verifyErr)
	require.Equal(t, up.Documents[0].JobID, body.Job.ID)
	require.Equal(t, "ingest", body.Job.Type)
	require.Equal(t, "succeeded", body.Job.State)

	mb, ct := rawMultipart(t, []rawPart{
		{`form-data; name="file"; filename="ice.txt"`, "Ice melts at zero degrees Celsius."},
		{`form-data; name="callback_url"`, r.URL},
	})
	var mup uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", testAdminKey, mb, ct, &mup))
	hooks = r.waitHooks(t, 2)
	require.NoError(t, json.Unmarshal(hooks[1].body, &body))
	require.Equal(t, mup.Documents[0].JobID, body.Job.ID)

	// The same bytes again are the existing document: no job of their
	// own, so no delivery.
	var dup uploadResp
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
		map[string]any{"text": "Water boils at 100 degrees Celsius at sea level.", "callback_url": r.URL}, &dup))
	require.True(t, dup.Documents[0].Duplicate)
	require.Equal(t, up.Documents[0].JobID, dup.Documents[0].JobID)
}

func TestWebhookRefusals(t *testing.T) {
	t.Parallel()
	r := newReceiver(t, 0)
	noSecret := setup(t, nil)
	var e apiError
	require.Equal(t, http.StatusBadRequest, noSecret.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey,
		map[string]any{"question": "q?", "callback_url": r.URL}, &e))
	require.Contains(t, e.Error.Message, "RAGQ_WEBHOOK_SECRET")

	b := setup(t, map[string]string{"RAGQ_WEBHOOK_SECRET": testWebhookSecret})
	for _, bad := range []string{"ftp://example.com/x", "/relative", "http://user:pw@example.com/x"} {
		e = apiError{}
		require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey,
			map[string]any{"question": "q?", "callback_url": bad}, &e), bad)
		require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/crawls", testAdminKey,
			map[string]any{"urls": []string{"https://example.com/"}, "callback_url": bad}, &e), bad)
		require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
			map[string]any{"text": "x", "callback_url": bad}, &e), bad)
	}

	// Loopback is not allow-listed here: the SSRF guard refuses the
	// delivery, which is not retried, and the receiver hears nothing.
	var q struct {
		JobID string `json:"job_id"`
	}
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/queries", testAdminKey,
		map[string]any{"question": "anything?", "mode": "async", "callback_url": r.URL}, &q))
	insp := asynq.NewInspector(b.inst.app.Services().RedisOpt)
	defer func() { _ = insp.Close() }()
	require.Eventually(t, func() bool {
		info, err := insp.GetTaskInfo(jobs.QueueMaintenance, "webhook-"+q.JobID)
		return err == nil && info.State == asynq.TaskStateArchived
	}, 30*time.Second, 20*time.Millisecond, "the blocked delivery is archived at once")
	info, err := insp.GetTaskInfo(jobs.QueueMaintenance, "webhook-"+q.JobID)
	require.NoError(t, err)
	require.Contains(t, info.LastErr, "is a loopback address")
	require.Zero(t, info.Retried, "a refused destination is not retried")
	require.Empty(t, r.hooks())
}
