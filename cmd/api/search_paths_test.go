package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/ragqueue/ragqueue/jobs/queries"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/stretchr/testify/require"
)

// searchPathsBundle is an API with one tenant's key and three indexed
// documents, for questions asked along every path.
type searchPathsBundle struct {
	*testBundle
	tenant, key string
}

func setupSearchPaths(t *testing.T) *searchPathsBundle {
	t.Helper()
	b := &searchPathsBundle{testBundle: setup(t, nil), tenant: "acme"}
	b.key = b.newKey(t, b.tenant, "writer")
	body, ct := multipartBody(t, []filePart{
		{name: "garden.md", body: gardenMD},
		{name: "volcano.html", contentType: "text/html", body: volcanoHTML},
		{name: "sky.txt", contentType: "text/plain", body: eventsDoc},
	}, "")
	var up uploadResp
	require.Equal(t, http.StatusAccepted, b.do(t, http.MethodPost, "/v1/documents", b.key, body, ct, &up))
	for _, d := range up.Documents {
		require.Equal(t, "ready", b.waitStatus(t, b.key, d.ID).Status)
	}
	return b
}

// dialWS opens /v1/ws with the bundle's key.
func (b *searchPathsBundle) dialWS(t *testing.T) *websocket.Conn {
	t.Helper()
	c, _, err := websocket.Dial(testCtx(t), "ws"+strings.TrimPrefix(b.base, "http")+"/v1/ws", &websocket.DialOptions{
		Subprotocols: []string{"ragqueue", "bearer." + b.key},
	})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// wsResult asks over the WebSocket and returns the job's result event.
func (b *searchPathsBundle) wsResult(t *testing.T, query map[string]any) json.RawMessage {
	t.Helper()
	ctx := testCtx(t)
	c := b.dialWS(t)
	query["type"] = "query"
	require.NoError(t, wsjson.Write(ctx, c, query))
	var ack wsMsg
	require.NoError(t, wsjson.Read(ctx, c, &ack))
	require.Equal(t, "job", ack.Type, "%+v", ack.Error)
	for _, m := range readUntilDone(t, ctx, c) {
		if m.Type == "result" {
			raw, err := json.Marshal(m.Data)
			require.NoError(t, err)
			return raw
		}
	}
	t.Fatal("the WebSocket job ended without a result event")
	return nil
}

// TestSearchPathsAgree: the same question with the same top_k finds the
// same passages over GET /v1/search, POST /v1/queries (the job result's
// passages), the WebSocket question and a direct queries.Search call (what
// cmd/eval's embedded backend runs): they all go through queries.Search's
// one search.
func TestSearchPathsAgree(t *testing.T) {
	t.Parallel()
	b := setupSearchPaths(t)
	const question, topK = "How much sunlight do tomatoes need?", 3

	var viaSearch struct {
		Results []retrieval.Passage `json:"results"`
		Mode    string              `json:"mode"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet,
		"/v1/search?q="+url.QueryEscape(question)+"&top_k="+strconv.Itoa(topK), b.key, nil, "", &viaSearch))
	require.Equal(t, queries.ModeHybrid, viaSearch.Mode)
	require.Len(t, viaSearch.Results, topK, "enough passages that their order counts")
	require.Contains(t, viaSearch.Results[0].Text, "six hours of direct sunlight")

	type result struct {
		Passages []retrieval.Passage `json:"passages"`
	}
	var viaQuery result
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", b.key,
		map[string]any{"question": question, "top_k": topK, "cache": false}, &viaQuery))

	var viaWS result
	require.NoError(t, json.Unmarshal(b.wsResult(t, map[string]any{"question": question, "top_k": topK, "cache": false}), &viaWS))

	direct, err := b.inst.app.Services().Queries.Search(t.Context(), queries.SearchRequest{
		Tenant: b.tenant, Text: question, Mode: queries.ModeHybrid, TopK: topK,
	})
	require.NoError(t, err)

	require.Equal(t, viaSearch.Results, viaQuery.Passages, "POST /v1/queries")
	require.Equal(t, viaSearch.Results, viaWS.Passages, "WebSocket question")
	require.Equal(t, viaSearch.Results, direct.Passages, "queries.Search")
}

// TestWebSocketQuestionFields: a WebSocket question takes POST /v1/queries'
// conversation_id and cache, checked by the same rules with the same
// messages.
func TestWebSocketQuestionFields(t *testing.T) {
	t.Parallel()
	b := setupSearchPaths(t)
	ctx := testCtx(t)
	for _, bad := range []map[string]any{
		{"question": "why?", "conversation_id": "bad id!"},
		{"question": "why?", "top_k": 0},
		{"question": "why?", "callback_url": "https://hooks.example/x"},
	} {
		var viaPost apiError
		require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/queries", b.key, bad, &viaPost))
		c := b.dialWS(t)
		bad["type"] = "query"
		require.NoError(t, wsjson.Write(ctx, c, bad))
		var m wsMsg
		require.NoError(t, wsjson.Read(ctx, c, &m))
		require.Equal(t, "error", m.Type)
		require.Equal(t, viaPost.Error.Code, m.Error.Code)
		require.Equal(t, viaPost.Error.Message, m.Error.Message)
	}

	var turn struct {
		ConversationID string  `json:"conversation_id"`
		Cache          *string `json:"cache"`
	}
	require.NoError(t, json.Unmarshal(b.wsResult(t, map[string]any{
		"question": "How much sunlight do tomatoes need?", "conversation_id": "ws-1", "cache": false,
	}), &turn))
	require.Equal(t, "ws-1", turn.ConversationID)
	require.Nil(t, turn.Cache, "the cache was off for this question")
	var conv conversationResp
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/conversations/ws-1", b.key, nil, "", &conv))
	require.Len(t, conv.Turns, 1)
}
