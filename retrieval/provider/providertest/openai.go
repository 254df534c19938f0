package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// NewOpenAI starts a fake OpenAI-compatible server on loopback: POST
// /v1/embeddings and POST /v1/chat/completions (JSON, or SSE chunks when
// "stream" is true, ending with a usage chunk and [DONE]). Server.URL ends
// in /v1, as OPENAI_BASE_URL does. The server stops when the test ends.
func NewOpenAI(t testing.TB, opts Options) *Server {
	t.Helper()
	opts.defaults()
	s := &Server{opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/embeddings", s.openAIEmbeddings)
	mux.HandleFunc("POST /v1/chat/completions", s.openAIChat)
	s.URL = start(t, mux).URL + "/v1"
	return s
}

func (s *Server) openAIEmbeddings(w http.ResponseWriter, r *http.Request) {
	req, n := s.record(r, true)
	if s.gate(w, r, req) {
		return
	}
	if len(req.Inputs) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		writeJSON(w, map[string]any{"error": map[string]any{"message": "input is required"}})
		return
	}
	data := make([]map[string]any, len(req.Inputs))
	for i, text := range req.Inputs {
		data[i] = map[string]any{"object": "embedding", "index": i, "embedding": Vector(text, s.dim(n))}
	}
	writeJSON(w, map[string]any{"object": "list", "model": req.Model, "data": data,
		"usage": map[string]any{"prompt_tokens": len(req.Inputs), "total_tokens": len(req.Inputs)}})
}

func (s *Server) openAIChat(w http.ResponseWriter, r *http.Request) {
	req, _ := s.record(r, false)
	if s.gate(w, r, req) {
		return
	}
	usage := map[string]any{"prompt_tokens": s.opts.PromptTokens, "completion_tokens": s.opts.CompletionTokens,
		"total_tokens": s.opts.PromptTokens + s.opts.CompletionTokens}
	if !req.Stream {
		writeJSON(w, map[string]any{
			"id": "chatcmpl-fake", "object": "chat.completion", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
				"message": map[string]any{"role": "assistant", "content": strings.Join(s.opts.Tokens, "")}}},
			"usage": usage,
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	send := func(v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", b)
		if fl != nil {
			fl.Flush()
		}
	}
	if !s.stream(w, r, func(tok string) {
		send(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": req.Model,
			"choices": []any{map[string]any{"index": 0, "delta": map[string]any{"content": tok}}}})
	}) {
		return
	}
	send(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": req.Model,
		"choices": []any{map[string]any{"index": 0, "delta": map[string]any{}, "finish_reason": "stop"}}})
	send(map[string]any{"id": "chatcmpl-fake", "object": "chat.completion.chunk", "model": req.Model,
		"choices": []any{}, "usage": usage})
	fmt.Fprint(w, "data: [DONE]\n\n")
	if fl != nil {
		fl.Flush()
	}
}
