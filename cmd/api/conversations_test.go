package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// convoAnswer mirrors a query job's result.
type convoAnswer struct {
	Answer    string `json:"answer"`
	JobID     string `json:"job_id"`
	Citations []struct {
		DocumentID string `json:"document_id"`
		Snippet    string `json:"snippet"`
	} `json:"citations"`
	Cache              *string `json:"cache"`
	ConversationID     string  `json:"conversation_id"`
	StandaloneQuestion string  `json:"standalone_question"`
}

// cited reports whether the answer cites the document.
func (a convoAnswer) cited(docID string) bool {
	for _, c := range a.Citations {
		if c.DocumentID == docID {
			return true
		}
	}
	return false
}

// cache is the answer's "cache" field, "" when absent.
func (a convoAnswer) cache() string {
	if a.Cache == nil {
		return ""
	}
	return *a.Cache
}

// ask sends a sync question and returns its answer.
func (b *testBundle) ask(t testing.TB, key string, body map[string]any) convoAnswer {
	t.Helper()
	var out convoAnswer
	code := b.doJSON(t, http.MethodPost, "/v1/queries", key, body, &out)
	require.Equal(t, http.StatusOK, code, "question %v", body)
	require.NotEmpty(t, out.JobID)
	return out
}

// conversationResp mirrors GET /v1/conversations/{id}.
type conversationResp struct {
	ID    string `json:"id"`
	Turns []struct {
		Seq                int             `json:"seq"`
		Question           string          `json:"question"`
		StandaloneQuestion string          `json:"standalone_question"`
		Answer             string          `json:"answer"`
		Citations          json.RawMessage `json:"citations"`
		JobID              string          `json:"job_id"`
		CreatedAt          time.Time       `json:"created_at"`
	} `json:"turns"`
}

// backends are the two shapes every conversation and cache test runs in:
// embedded (SQLite, in-process Redis) and real Redis with PostgreSQL.
func backends(t *testing.T) map[string]func(t *testing.T) map[string]string {
	return map[string]func(t *testing.T) map[string]string{
		"embedded": func(*testing.T) map[string]string { return map[string]string{} },
		"redis+postgres": func(t *testing.T) map[string]string {
			needServers(t)
			opt := testRedis.NewDB(t)
			return map[string]string{
				"RAGQ_REDIS_URL":    fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB),
				"RAGQ_DATABASE_URL": testPG.NewDatabase(t),
				"RAGQ_RUN_WORKERS":  "true",
			}
		},
	}
}

const (
	x100Text = "The Aurora X100 printer is a colour laser printer for small offices. " +
		"The X100 printer prints forty pages per minute. The X100 printer warranty lasts three years."
	z9Text = "Warranty terms of the Z9 scanner. The Z9 warranty is a limited warranty of ninety days. " +
		"Warranty claims for the Z9 need the receipt. The warranty does not cover wear."
)

// TestConversationFollowUp asks a question and a follow-up that only makes
// sense with it ("what about its warranty?"): the follow-up is rewritten
// with the first question's terms and answered from the right document,
// where the bare follow-up is answered from another one. The history is
// readable, tenant-scoped, and deletable.
func TestConversationFollowUp(t *testing.T) {
	t.Parallel()
	for name, env := range backends(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := setup(t, env(t))
			key := b.newKey(t, "convo", "writer")
			x100, _ := b.postText(t, key, "X100", x100Text)
			z9, _ := b.postText(t, key, "Z9", z9Text)
			require.Equal(t, "ready", b.waitStatus(t, key, x100).Status)
			require.Equal(t, "ready", b.waitStatus(t, key, z9).Status)

			// Control: without the conversation, the follow-up finds the Z9.
			bare := b.ask(t, key, map[string]any{"question": "what about its warranty?", "top_k": 1, "cache": false})
			require.True(t, bare.cited(z9), "bare follow-up: %+v", bare)
			require.False(t, bare.cited(x100))

			first := b.ask(t, key, map[string]any{"question": "What is the X100 printer?", "top_k": 1, "conversation_id": "chat-1"})
			require.True(t, first.cited(x100), "first: %+v", first)
			require.Equal(t, "chat-1", first.ConversationID)
			require.Equal(t, "What is the X100 printer?", first.StandaloneQuestion)

			follow := b.ask(t, key, map[string]any{"question": "what about its warranty?", "top_k": 1, "conversation_id": "chat-1"})
			require.Equal(t, "x100 printer: what about its warranty?", follow.StandaloneQuestion)
			require.True(t, follow.cited(x100), "follow-up: %+v", follow)
			require.Contains(t, follow.Answer, "three years")

			// The standalone question is the cache key: the same follow-up
			// in another conversation with the same history is a hit.
			b.ask(t, key, map[string]any{"question": "What is the X100 printer?", "top_k": 1, "conversation_id": "chat-2"})
			again := b.ask(t, key, map[string]any{"question": "what about its warranty?", "top_k": 1, "conversation_id": "chat-2"})
			require.Equal(t, "exact", again.cache())
			require.Equal(t, follow.Answer, again.Answer)

			var conv conversationResp
			require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/conversations/chat-1", key, nil, "", &conv))
			require.Equal(t, "chat-1", conv.ID)
			require.Len(t, conv.Turns, 2)
			require.Equal(t, 1, conv.Turns[0].Seq)
			require.Equal(t, "What is the X100 printer?", conv.Turns[0].Question)
			require.Equal(t, first.JobID, conv.Turns[0].JobID)
			require.Equal(t, "what about its warranty?", conv.Turns[1].Question)
			require.Equal(t, follow.StandaloneQuestion, conv.Turns[1].StandaloneQuestion)
			require.Equal(t, follow.Answer, conv.Turns[1].Answer)
			require.Contains(t, string(conv.Turns[1].Citations), x100)

			// Another tenant neither sees nor deletes it; its own chat-1 is separate.
			other := b.newKey(t, "convo-other", "reader")
			var e apiError
			require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, "/v1/conversations/chat-1", other, nil, "", &e))
			require.Equal(t, "not_found", e.Error.Code)
			require.Equal(t, http.StatusNotFound, b.do(t, http.MethodDelete, "/v1/conversations/chat-1", other, nil, "", nil))

			require.Equal(t, http.StatusBadRequest, b.doJSON(t, http.MethodPost, "/v1/queries", key,
				map[string]any{"question": "hi", "conversation_id": "no spaces/allowed"}, &e))
			require.Contains(t, e.Error.Message, "conversation_id")

			require.Equal(t, http.StatusNoContent, b.do(t, http.MethodDelete, "/v1/conversations/chat-1", key, nil, "", nil))
			require.Equal(t, http.StatusNotFound, b.do(t, http.MethodGet, "/v1/conversations/chat-1", key, nil, "", nil))
		})
	}
}
