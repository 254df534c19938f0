package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval/provider/providertest"
)

// TestLLMGenerator runs questions through RAGQ_LLM=openai:MODEL against a
// loopback fake that checks the request: the model gets the numbered,
// fenced passages, its answer and [n] citations come back mapped to the
// document, its usage is recorded on the job, and the tenant's daily token
// budget refuses questions once it is spent.
func TestLLMGenerator(t *testing.T) {
	t.Parallel()
	fake := providertest.NewOpenAI(t, providertest.Options{
		Tokens:       []string{"Apricots ", "need a ", "late frost-free spring ", "[1]."},
		PromptTokens: 120, CompletionTokens: 9,
	})
	b := setup(t, map[string]string{
		"RAGQ_LLM": "openai:fake-chat", "OPENAI_BASE_URL": fake.URL, "OPENAI_API_KEY": "sk-chat",
		"RAGQ_LLM_MAX_OUTPUT_TOKENS": "256", "RAGQ_TENANT_DAILY_TOKENS": "200",
	})
	writer := b.newKey(t, "orchard", "writer")
	id, _ := b.postText(t, writer, "Apricots", "Apricot trees flower early, so a late frost can destroy the crop.")
	require.Equal(t, "ready", b.waitStatus(t, writer, id).Status)

	var ans struct {
		answerResp
		Usage struct {
			PromptTokens     int `json:"prompt_tokens"`
			CompletionTokens int `json:"completion_tokens"`
		} `json:"usage"`
	}
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", writer,
		map[string]any{"question": "What do apricots need?"}, &ans))
	require.Equal(t, "Apricots need a late frost-free spring [1].", ans.Answer)
	require.Equal(t, "openai:fake-chat", ans.Generator)
	require.Len(t, ans.Citations, 1)
	require.Equal(t, id, ans.Citations[0].DocumentID)
	require.Equal(t, 120, ans.Usage.PromptTokens)
	require.Equal(t, 9, ans.Usage.CompletionTokens)

	chats := fake.RequestsTo("/chat/completions")
	require.Len(t, chats, 1)
	require.Equal(t, "fake-chat", chats[0].Model)
	require.Equal(t, 256, chats[0].MaxTokens)
	prompt, _ := json.Marshal(chats[0].Messages)
	require.Contains(t, string(prompt), "late frost can destroy the crop", "the passage is in the prompt")
	require.Contains(t, strings.ToLower(string(prompt)), "passage 1")

	// 129 tokens used of 200: one more question goes through, then the
	// day's budget is spent and questions are refused before a job is made.
	require.Equal(t, http.StatusOK, b.doJSON(t, http.MethodPost, "/v1/queries", writer,
		map[string]any{"question": "When do apricots flower?", "cache": false}, &ans))
	var e apiError
	require.Equal(t, http.StatusTooManyRequests, b.doJSON(t, http.MethodPost, "/v1/queries", writer,
		map[string]any{"question": "Anything else about apricots?"}, &e))
	require.Contains(t, e.Error.Message, "RAGQ_TENANT_DAILY_TOKENS")
	require.Len(t, fake.RequestsTo("/chat/completions"), 2)
}
