package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUploadCallback checks callback_url end to end: refused without a
// webhook secret, otherwise the receiver gets the finished job, signed as
// the README says to verify it.
func TestUploadCallback(t *testing.T) {
	t.Parallel()
	recv := newReceiver(t, 0)

	plain := setup(t, nil)
	var e apiError
	require.Equal(t, http.StatusBadRequest, plain.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
		map[string]any{"text": "No secret here.", "callback_url": recv.URL}, &e))
	require.Contains(t, e.Error.Message, "RAGQ_WEBHOOK_SECRET")

	b := setup(t, webhookEnv(recv))
	require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
		map[string]any{"text": "Bad URL.", "callback_url": "ftp://example.org/x"}, &e))
	require.Contains(t, e.Error.Message, "http or https")

	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/documents", testAdminKey,
		map[string]any{"text": "Webhooks tell a client when its document is ready.", "callback_url": recv.URL + "/done"}, &up))
	require.Equal(t, "ready", b.waitStatus(t, testAdminKey, up.Documents[0].ID).Status)
	hooks := recv.waitHooks(t, 1)
	require.Len(t, hooks, 1)
	require.True(t, readmeSignatureValid(testWebhookSecret, hooks[0].signature, hooks[0].body), "the README's verification accepts the delivery")
	var body map[string]any
	require.NoError(t, json.Unmarshal(hooks[0].body, &body))
	require.Equal(t, "job.finished", body["event"])
	job := body["job"].(map[string]any)
	require.Equal(t, up.Documents[0].JobID, job["id"])
	require.Equal(t, "succeeded", job["state"])
}

// readmeSignatureValid is the README's verification, written out by hand:
// HMAC-SHA256 over "<t>.<body>", compared with the header's v1.
func readmeSignatureValid(secret, header string, body []byte) bool {
	var ts, sig string
	for _, kv := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "t" {
			ts = v
		} else if k == "v1" {
			sig = v
		}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	return hmac.Equal([]byte(hex.EncodeToString(mac.Sum(nil))), []byte(sig))
}
