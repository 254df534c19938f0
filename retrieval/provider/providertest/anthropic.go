package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// NewAnthropic starts a fake Anthropic Messages API on loopback: POST
// /v1/messages, answering with one message or, when "stream" is true,
// with the SSE events message_start … message_stop. Server.URL ends in /v1
// (the base langchaingo's anthropic.WithBaseURL takes). The server stops
// when the test ends.
func NewAnthropic(t testing.TB, opts Options) *Server {
	t.Helper()
	opts.defaults()
	s := &Server{opts: opts}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/messages", s.anthropicMessages)
	s.URL = start(t, mux).URL + "/v1"
	return s
}

func (s *Server) anthropicMessages(w http.ResponseWriter, r *http.Request) {
	req, _ := s.record(r, false)
	if s.gate(w, r, req) {
		return
	}
	if !req.Stream {
		writeJSON(w, map[string]any{
			"id": "msg_fake", "type": "message", "role": "assistant", "model": req.Model, "stop_reason": "end_turn",
			"content": []any{map[string]any{"type": "text", "text": strings.Join(s.opts.Tokens, "")}},
			"usage":   map[string]any{"input_tokens": s.opts.PromptTokens, "output_tokens": s.opts.CompletionTokens},
		})
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	send := func(event string, v any) {
		b, _ := json.Marshal(v)
		fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
		if fl != nil {
			fl.Flush()
		}
	}
	send("message_start", map[string]any{"type": "message_start", "message": map[string]any{
		"id": "msg_fake", "type": "message", "role": "assistant", "model": req.Model, "content": []any{},
		"usage": map[string]any{"input_tokens": s.opts.PromptTokens, "output_tokens": 1}}})
	send("content_block_start", map[string]any{"type": "content_block_start", "index": 0,
		"content_block": map[string]any{"type": "text", "text": ""}})
	if !s.stream(w, r, func(tok string) {
		send("content_block_delta", map[string]any{"type": "content_block_delta", "index": 0,
			"delta": map[string]any{"type": "text_delta", "text": tok}})
	}) {
		return
	}
	send("content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	send("message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "end_turn"},
		"usage": map[string]any{"output_tokens": s.opts.CompletionTokens}})
	send("message_stop", map[string]any{"type": "message_stop"})
}
