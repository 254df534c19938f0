package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestUploadCallback checks callback_url end to end: refused without a
// webhook secret, otherwise the receiver gets the finished job, signed as
// the README says to verify it.
func TestUploadCallback(t *testing.T) {
	t.Parallel()
	const secret = "readme-webhook-secret-0123"
	var mu sync.Mutex
	var bodies []map[string]any
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		// The README's verification: HMAC-SHA256 over "<t>.<body>".
		var ts, sig string
		for _, kv := range strings.Split(r.Header.Get("Ragqueue-Signature"), ",") {
			k, v, _ := strings.Cut(kv, "=")
			if k == "t" {
				ts = v
			} else if k == "v1" {
				sig = v
			}
		}
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts + "." + string(body)))
		if !hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(sig)) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var m map[string]any
		_ = json.Unmarshal(body, &m)
		mu.Lock()
		bodies = append(bodies, m)
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)

	plain := setup(t, nil)
	var e apiError
	require.Equal(t, http.StatusBadRequest, plain.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
		map[string]any{"text": "No secret here.", "callback_url": recv.URL}, &e))
	require.Contains(t, e.Error.Message, "RAGQ_WEBHOOK_SECRET")

	b := setup(t, map[string]string{"RAGQ_WEBHOOK_SECRET": secret, "RAGQ_FETCH_ALLOW_CIDRS": "127.0.0.0/8",
		"RAGQ_FETCH_ALLOWED_PORTS": recv.URL[strings.LastIndex(recv.URL, ":")+1:]})
	require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
		map[string]any{"text": "Bad URL.", "callback_url": "ftp://example.org/x"}, &e))
	require.Contains(t, e.Error.Message, "http or https")

	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
		map[string]any{"text": "Webhooks tell a client when its document is ready.", "callback_url": recv.URL + "/done"}, &up))
	require.Equal(t, "ready", b.waitStatus(t, testAdminKey, up.Documents[0].ID).Status)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(bodies) == 1
	}, 30*time.Second, 20*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, "job.finished", bodies[0]["event"])
	job := bodies[0]["job"].(map[string]any)
	require.Equal(t, up.Documents[0].JobID, job["id"])
	require.Equal(t, "succeeded", job["state"])
}
