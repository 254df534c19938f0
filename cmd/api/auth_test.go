package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestAuth(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	writerA := b.newKey(t, "tenant-a", "writer")
	readerA := b.newKey(t, "tenant-a", "reader")
	writerB := b.newKey(t, "tenant-b", "writer")

	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.doJSON(t, http.MethodPost, "/v1/documents", writerA,
		map[string]any{"text": "The canary phrase is blue-walrus-42."}, &up))
	docID, jobID := up.Documents[0].ID, up.Documents[0].JobID
	require.Equal(t, "ready", b.waitStatus(t, writerA, docID).Status)

	tests := []struct {
		name, method, path, key string
		body                    any
		want                    int
		wantCode                string
	}{
		{"no key", http.MethodGet, "/v1/documents", "", nil, 401, "unauthorized"},
		{"unknown key", http.MethodGet, "/v1/documents", "rq_nope", nil, 401, "unauthorized"},
		{"reader cannot upload", http.MethodPost, "/v1/documents", readerA, map[string]any{"text": "x"}, 403, "forbidden"},
		{"reader cannot delete", http.MethodDelete, "/v1/documents/" + docID, readerA, nil, 403, "forbidden"},
		{"writer cannot manage keys", http.MethodGet, "/v1/admin/keys", writerA, nil, 403, "forbidden"},
		{"reader reads own tenant", http.MethodGet, "/v1/documents/" + docID, readerA, nil, 200, ""},
		{"other tenant get 404", http.MethodGet, "/v1/documents/" + docID, writerB, nil, 404, "not_found"},
		{"other tenant delete 404", http.MethodDelete, "/v1/documents/" + docID, writerB, nil, 404, "not_found"},
		{"other tenant job 404", http.MethodGet, "/v1/jobs/" + jobID, writerB, nil, 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e apiError
			var out any = &e
			if tt.want < 300 {
				out = nil
			}
			got := b.doJSON(t, tt.method, tt.path, tt.key, tt.body, out)
			require.Equal(t, tt.want, got)
			if tt.wantCode != "" {
				require.Equal(t, tt.wantCode, e.Error.Code)
				require.NotEmpty(t, e.Error.Message)
			}
		})
	}

	// The other tenant's search and list never show the canary.
	var sr searchResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q=canary+blue-walrus-42", writerB, nil, "", &sr))
	require.Empty(t, sr.Results)
	var list struct {
		Documents []docResp `json:"documents"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/documents", writerB, nil, "", &list))
	require.Empty(t, list.Documents)
	var ans answerResp
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", writerB, map[string]any{"question": "What is the canary phrase?"}, &ans))
	require.NotContains(t, ans.Answer, "walrus")
	// ... while the owner's search does.
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?q=canary+blue-walrus-42", readerA, nil, "", &sr))
	require.NotEmpty(t, sr.Results)

	// Keys: list shows no secrets; revoked keys stop working; own key can't be revoked.
	var keys struct {
		Keys []map[string]any `json:"keys"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/admin/keys", testAdminKey, nil, "", &keys))
	require.Len(t, keys.Keys, 4)
	var victim, self string
	for _, k := range keys.Keys {
		require.NotContains(t, k, "key")
		require.NotContains(t, k, "hash")
		if k["tenant"] == "tenant-b" {
			victim = k["id"].(string)
		}
		if k["role"] == "admin" {
			self = k["id"].(string)
		}
	}
	require.Equal(t, http.StatusConflict, b.do(t, http.MethodDelete, "/v1/admin/keys/"+self, testAdminKey, nil, "", nil))
	require.Equal(t, http.StatusNoContent, b.do(t, http.MethodDelete, "/v1/admin/keys/"+victim, testAdminKey, nil, "", nil))
	require.Equal(t, http.StatusNotFound, b.do(t, http.MethodDelete, "/v1/admin/keys/"+victim, testAdminKey, nil, "", nil))
	require.Equal(t, http.StatusUnauthorized, b.do(t, http.MethodGet, "/v1/documents", writerB, nil, "", nil))
	require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/admin/keys", testAdminKey,
		map[string]string{"tenant": "../x", "role": "reader"}, nil))
	require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/admin/keys", testAdminKey,
		map[string]string{"tenant": "ok", "role": "root"}, nil))
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t, map[string]string{"RAGQ_MAX_UPLOAD_BYTES": "4096"})
	key := testAdminKey
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"

	type tc struct {
		name     string
		send     func() int
		want     int
		wantCode string
	}
	var e apiError
	mp := func(files []filePart, meta string) func() int {
		return func() int {
			body, ct := multipartBody(t, files, meta)
			e = apiError{}
			return b.do(t, http.MethodPost, "/v1/documents", key, body, ct, &e)
		}
	}
	js := func(method, path string, body any) func() int {
		return func() int { e = apiError{}; return b.doJSON(t, method, path, key, body, &e) }
	}
	raw := func(method, path, ct, body string) func() int {
		return func() int { e = apiError{}; return b.do(t, method, path, key, strings.NewReader(body), ct, &e) }
	}
	tests := []tc{
		{"too large multipart", mp([]filePart{{name: "big.txt", body: strings.Repeat("a", 5000)}}, ""), 413, "payload_too_large"},
		{"too large json", js(http.MethodPost, "/v1/documents", map[string]any{"text": strings.Repeat("a ", 3000)}), 413, "payload_too_large"},
		{"png", mp([]filePart{{name: "cat.png", body: png}}, ""), 415, "unsupported_media_type"},
		{"binary named txt", mp([]filePart{{name: "notes.txt", body: "ab\x00\x00cd"}}, ""), 415, "unsupported_media_type"},
		{"wrong request type", raw(http.MethodPost, "/v1/documents", "text/plain", "hello"), 415, "unsupported_media_type"},
		{"empty file", mp([]filePart{{name: "empty.txt", body: ""}}, ""), 400, "invalid_request"},
		{"no files", mp(nil, `{"a":1}`), 400, "invalid_request"},
		{"metadata not object", mp([]filePart{{name: "a.txt", body: "hello"}}, `[1,2]`), 400, "invalid_request"},
		{"blank text", js(http.MethodPost, "/v1/documents", map[string]any{"text": "   "}), 400, "invalid_request"},
		{"unknown field", js(http.MethodPost, "/v1/documents", map[string]any{"txt": "hi"}), 400, "invalid_request"},
		{"bad json", raw(http.MethodPost, "/v1/queries", "application/json", `{"question":`), 400, "invalid_request"},
		{"question missing", js(http.MethodPost, "/v1/queries", map[string]any{}), 400, "invalid_request"},
		{"bad mode", js(http.MethodPost, "/v1/queries", map[string]any{"question": "q", "mode": "later"}), 400, "invalid_request"},
		{"bad top_k", js(http.MethodPost, "/v1/queries", map[string]any{"question": "q", "top_k": 0}), 400, "invalid_request"},
		{"search without q", js(http.MethodGet, "/v1/search", nil), 400, "invalid_request"},
		{"search bad top_k", js(http.MethodGet, "/v1/search?q=x&top_k=abc", nil), 400, "invalid_request"},
		{"list bad status", js(http.MethodGet, "/v1/documents?status=done", nil), 400, "invalid_request"},
		{"list bad cursor", js(http.MethodGet, "/v1/documents?cursor=not-a-cursor", nil), 400, "invalid_request"},
		{"unknown document", js(http.MethodGet, "/v1/documents/nope", nil), 404, "not_found"},
		{"unknown job", js(http.MethodGet, "/v1/jobs/nope", nil), 404, "not_found"},
		{"unknown route", js(http.MethodGet, "/v1/nothing", nil), 404, "not_found"},
		{"wrong method", js(http.MethodPut, "/v1/search", nil), 405, "method_not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Equal(t, tt.want, tt.send())
			require.Equal(t, tt.wantCode, e.Error.Code)
			require.NotEmpty(t, e.Error.Message)
		})
	}

	// Without a Content-Length the limit still holds while streaming, and no
	// partial upload is left behind.
	body, ct := multipartBody(t, []filePart{{name: "a.txt", body: "small"}, {name: "big.txt", body: strings.Repeat("b", 8000)}}, "")
	e = apiError{}
	require.Equal(t, http.StatusRequestEntityTooLarge, b.do(t, http.MethodPost, "/v1/documents", key, struct{ io.Reader }{body}, ct, &e))
	require.Equal(t, "payload_too_large", e.Error.Code)
	require.Empty(t, b.blobFiles(t), "refused uploads leave no bytes behind")

	// A mixed request: the good file is accepted, the bad one refused, each
	// with its own status.
	body, ct = multipartBody(t, []filePart{{name: "ok.txt", body: "fine text"}, {name: "cat.png", body: png}}, "")
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", key, body, ct, &up))
	require.Len(t, up.Documents, 2)
	require.Nil(t, up.Documents[0].Error)
	require.NotEmpty(t, up.Documents[0].ID)
	require.NotNil(t, up.Documents[1].Error)
	require.Equal(t, "unsupported_media_type", up.Documents[1].Error.Code)
}

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	var h map[string]any
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/healthz", "", nil, "", &h))
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/readyz", "", nil, "", &h))
	require.Equal(t, "ready", h["status"])
}
