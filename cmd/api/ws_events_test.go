package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval/provider/providertest"
)

// wsMsg is any server message.
type wsMsg struct {
	Type  string `json:"type"`
	JobID string `json:"job_id"`
	ID    string `json:"id"`
	Data  any    `json:"data"`
	Error *struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// dialWS connects with the key as a subprotocol, as a browser would.
func (b *eventsBundle) dialWS(t testing.TB, ctx context.Context, key string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.base, "http")+"/v1/ws", &websocket.DialOptions{
		Subprotocols: []string{"ragqueue", "bearer." + key},
	})
	require.NoError(t, err)
	require.Equal(t, "ragqueue", resp.Header.Get("Sec-WebSocket-Protocol"))
	t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

func readUntilDone(t testing.TB, ctx context.Context, c *websocket.Conn) []wsMsg {
	t.Helper()
	var out []wsMsg
	for {
		var m wsMsg
		require.NoError(t, wsjson.Read(ctx, c, &m))
		out = append(out, m)
		if m.Type == "done" {
			return out
		}
	}
}

func TestWebSocketRoundTrip(t *testing.T) {
	t.Parallel()
	tokens := []string{"Air", " scatters", " blue", " [1]."}
	fake := providertest.NewOpenAI(t, providertest.Options{Tokens: tokens})
	b := setupEvents(t, fake.URL, nil)
	ctx := testCtx(t)
	c := b.dialWS(t, ctx, b.key)

	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "query", "question": "why is the sky blue?", "top_k": 3}))
	var ack wsMsg
	require.NoError(t, wsjson.Read(ctx, c, &ack))
	require.Equal(t, "job", ack.Type)
	require.NotEmpty(t, ack.JobID)
	evs := readUntilDone(t, ctx, c)
	var text strings.Builder
	var kindsSeen []string
	for _, m := range evs {
		require.Equal(t, ack.JobID, m.JobID)
		require.NotEmpty(t, m.ID, "every event has its stream id")
		if m.Type == "token" {
			text.WriteString(m.Data.(map[string]any)["text"].(string))
		}
		if n := len(kindsSeen); n == 0 || kindsSeen[n-1] != m.Type {
			kindsSeen = append(kindsSeen, m.Type)
		}
	}
	require.Equal(t, strings.Join(tokens, ""), text.String())
	require.Equal(t, []string{"token", "citation", "result", "done"}, kindsSeen)

	// Subscribing resumes after an id: the same events, from there.
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "subscribe", "job_id": ack.JobID, "last_event_id": evs[1].ID}))
	rest := readUntilDone(t, ctx, c)
	require.Equal(t, evs[2:], rest)

	// Refusals are answered, and the connection stays usable.
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "dance"}))
	var m wsMsg
	require.NoError(t, wsjson.Read(ctx, c, &m))
	require.Equal(t, "error", m.Type)
	require.Equal(t, "invalid_request", m.Error.Code)
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "query", "question": "  "}))
	require.NoError(t, wsjson.Read(ctx, c, &m))
	require.Equal(t, "invalid_request", m.Error.Code)

	// Another tenant's job does not exist for this key.
	other := b.dialWS(t, ctx, b.newKey(t, "globex", "reader"))
	require.NoError(t, wsjson.Write(ctx, other, map[string]any{"type": "subscribe", "job_id": ack.JobID}))
	require.NoError(t, wsjson.Read(ctx, other, &m))
	require.Equal(t, "error", m.Type)
	require.Equal(t, "not_found", m.Error.Code)

	// The Authorization header works too; a wrong key is refused.
	hc, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.base, "http")+"/v1/ws", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + b.key}},
	})
	require.NoError(t, err)
	_ = hc.CloseNow()
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.base, "http")+"/v1/ws", &websocket.DialOptions{
		Subprotocols: []string{"ragqueue", "bearer.rq_wrong_key_wrong_key_wrong_key"},
	})
	require.Error(t, err)
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
}

func TestWebSocketCloseCancelsQuery(t *testing.T) {
	t.Parallel()
	fake := newCancelFake(t)
	b := setupEvents(t, fake.URL, nil)
	ctx := testCtx(t)
	c := b.dialWS(t, ctx, b.key)
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "query", "question": "why is the sky blue?"}))
	var ack, tok wsMsg
	require.NoError(t, wsjson.Read(ctx, c, &ack))
	<-fake.arrived
	require.NoError(t, wsjson.Read(ctx, c, &tok))
	require.Equal(t, "token", tok.Type)
	require.NoError(t, c.Close(websocket.StatusNormalClosure, "bye"))
	select {
	case <-fake.gone:
	case <-time.After(30 * time.Second):
		t.Fatal("closing the WebSocket did not cancel the provider call")
	}
	require.Eventually(t, func() bool { return b.jobState(t, ack.JobID) == "canceled" }, 30*time.Second, 10*time.Millisecond)
}

// TestWebSocketTokenBudget: a question over the WebSocket is refused before
// a job is made once the tenant's tokens for the day are spent, as over
// HTTP, and the connection stays usable.
func TestWebSocketTokenBudget(t *testing.T) {
	t.Parallel()
	fake := providertest.NewOpenAI(t, providertest.Options{Tokens: []string{"Blue [1]."}, PromptTokens: 120, CompletionTokens: 9})
	b := setupEvents(t, fake.URL, map[string]string{"RAGQ_TENANT_DAILY_TOKENS": "100"})
	ctx := testCtx(t)
	c := b.dialWS(t, ctx, b.key)

	// 0 of 100 used: this one runs, and uses 129.
	require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "query", "question": "why is the sky blue?"}))
	var ack wsMsg
	require.NoError(t, wsjson.Read(ctx, c, &ack))
	require.Equal(t, "job", ack.Type)
	readUntilDone(t, ctx, c)

	for range 2 { // refused, and refused again on the same connection
		require.NoError(t, wsjson.Write(ctx, c, map[string]any{"type": "query", "question": "and at sunset?", "cache": false}))
		var m wsMsg
		require.NoError(t, wsjson.Read(ctx, c, &m))
		require.Equal(t, "error", m.Type)
		require.Equal(t, "rate_limited", m.Error.Code)
		require.Contains(t, m.Error.Message, "RAGQ_TENANT_DAILY_TOKENS")
	}
	require.Len(t, fake.RequestsTo("/chat/completions"), 1)
}
