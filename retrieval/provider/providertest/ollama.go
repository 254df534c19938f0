package providertest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// NewOllama starts a fake Ollama server on loopback: POST /api/embed
// ("input" a string or a list) and POST /api/chat (one JSON object, or
// NDJSON lines when "stream" is true, the last with done, prompt_eval_count
// and eval_count). Server.URL is the base OLLAMA_HOST names. The server
// stops when the test ends.
func NewOllama(t testing.TB, opts Options) *Server {
	t.Helper()
	opts.defaults()
	s := &Server{opts: opts, ollama: true}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/embed", s.ollamaEmbed)
	mux.HandleFunc("POST /api/chat", s.ollamaChat)
	s.URL = start(t, mux).URL
	return s
}

func (s *Server) ollamaEmbed(w http.ResponseWriter, r *http.Request) {
	req, n := s.record(r, true)
	if s.gate(w, r, req) {
		return
	}
	vecs := make([][]float32, len(req.Inputs))
	for i, text := range req.Inputs {
		vecs[i] = Vector(text, s.dim(n))
	}
	writeJSON(w, map[string]any{"model": req.Model, "embeddings": vecs})
}

func (s *Server) ollamaChat(w http.ResponseWriter, r *http.Request) {
	req, _ := s.record(r, false)
	if s.gate(w, r, req) {
		return
	}
	final := func(content string) map[string]any {
		return map[string]any{"model": req.Model, "created_at": time.Now().UTC().Format(time.RFC3339Nano),
			"message": map[string]any{"role": "assistant", "content": content}, "done": true, "done_reason": "stop",
			"prompt_eval_count": s.opts.PromptTokens, "eval_count": s.opts.CompletionTokens}
	}
	if !req.Stream {
		writeJSON(w, final(strings.Join(s.opts.Tokens, "")))
		return
	}
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(w)
	if !s.stream(w, r, func(tok string) {
		_ = enc.Encode(map[string]any{"model": req.Model, "created_at": time.Now().UTC().Format(time.RFC3339Nano),
			"message": map[string]any{"role": "assistant", "content": tok}, "done": false})
	}) {
		return
	}
	_ = enc.Encode(final(""))
}
