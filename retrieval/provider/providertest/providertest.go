// Package providertest runs fake model providers on loopback for tests:
// an OpenAI-compatible server (embeddings, streaming chat completions),
// an Ollama server (/api/embed, streaming /api/chat) and an Anthropic
// server (streaming /v1/messages). They record
// every request and can be told to fail, hold or cut off chosen requests.
package providertest

import (
	"encoding/json"
	"hash/fnv"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request a fake server received.
type Request struct {
	// N is the request's 0-based position among all the server received.
	N      int
	Method string
	Path   string
	// Header holds the request's headers (Authorization included).
	Header http.Header
	// Body is the raw request body.
	Body []byte
	// Model is the body's "model".
	Model string
	// Inputs are the texts of an embeddings request, in order.
	Inputs []string
	// Stream is the body's "stream".
	Stream bool
	// Messages are the role and content of a chat request's messages.
	Messages []Message
	// MaxTokens is max_completion_tokens/max_tokens (openai) or
	// options.num_predict (ollama).
	MaxTokens int
}

// Message is one chat message of a recorded request.
type Message struct {
	Role    string
	Content string
}

// Failure makes the fake answer one request with an error.
type Failure struct {
	// Status is the HTTP status (e.g. 429, 500, 400).
	Status int
	// Message is the provider's error message in the JSON error body.
	Message string
	// RetryAfter, when set, is sent as the Retry-After header.
	RetryAfter string
}

// Options configure a fake server. The zero value serves 8-dimensional
// embeddings and answers chats with "The answer is here [1]." in pieces.
type Options struct {
	// Dim is the length of the vectors served; default 8.
	Dim int
	// DimFor, when set, gives the vector length of embeddings request n
	// (counted among embeddings requests, from 0), overriding Dim.
	DimFor func(n int) int
	// Fail, when set, is asked about every request (n counts all
	// requests from 0); a non-nil Failure is served instead.
	Fail func(n int, path string) *Failure
	// Tokens are the pieces of text a chat answer streams, in order.
	Tokens []string
	// TokenDelay separates streamed pieces (default 1ms), so that they
	// reach the client as separate reads.
	TokenDelay time.Duration
	// CutAfter, when > 0, makes a streaming chat drop the connection after
	// that many pieces, without finishing the stream.
	CutAfter int
	// PromptTokens and CompletionTokens are the usage reported at the end
	// of a chat; defaults 42 and 7.
	PromptTokens, CompletionTokens int
	// Hold, when set, is asked about every request; a non-nil channel
	// makes the request wait until it is closed or the client goes away,
	// after sending the request's N to Arrived (when set).
	Hold    func(n int, path string) <-chan struct{}
	Arrived chan<- int
}

// Server is a running fake provider.
type Server struct {
	// URL is the server's base: for OpenAI it ends in /v1 (what
	// OPENAI_BASE_URL holds); for Ollama it is the bare host URL.
	URL string

	opts       Options
	ollama     bool // errors as Ollama shapes them: {"error": "message"}
	mu         sync.Mutex
	requests   []Request
	embedCalls int
}

// Requests returns a copy of the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// RequestsTo returns the recorded requests whose path ends with suffix.
func (s *Server) RequestsTo(suffix string) []Request {
	var out []Request
	for _, r := range s.Requests() {
		if strings.HasSuffix(r.Path, suffix) {
			out = append(out, r)
		}
	}
	return out
}

func (o *Options) defaults() {
	if o.Dim <= 0 {
		o.Dim = 8
	}
	if len(o.Tokens) == 0 {
		o.Tokens = []string{"The answer", " is", " here", " [1]."}
	}
	if o.TokenDelay <= 0 {
		o.TokenDelay = time.Millisecond
	}
	if o.PromptTokens == 0 {
		o.PromptTokens = 42
	}
	if o.CompletionTokens == 0 {
		o.CompletionTokens = 7
	}
}

// start serves h on 127.0.0.1 until the test ends.
func start(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("providertest: listen: %v", err)
	}
	srv := &httptest.Server{Listener: l, Config: &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// record parses and stores r; it returns the request and the embeddings
// call number (-1 for other paths).
func (s *Server) record(r *http.Request, embed bool) (Request, int) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 8<<20))
	var b struct {
		Model     string          `json:"model"`
		System    json.RawMessage `json:"system"`
		Input     json.RawMessage `json:"input"`
		Stream    bool            `json:"stream"`
		MaxTokens int             `json:"max_tokens"`
		MaxCompl  int             `json:"max_completion_tokens"`
		Options   struct {
			NumPredict int `json:"num_predict"`
		} `json:"options"`
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	_ = json.Unmarshal(body, &b)
	req := Request{Method: r.Method, Path: r.URL.Path, Header: r.Header.Clone(), Body: body, Model: b.Model, Stream: b.Stream,
		MaxTokens: max(b.MaxTokens, b.MaxCompl, b.Options.NumPredict)}
	var one string
	if json.Unmarshal(b.Input, &one) == nil {
		req.Inputs = []string{one}
	} else {
		_ = json.Unmarshal(b.Input, &req.Inputs)
	}
	if sys := contentText(b.System); sys != "" { // Anthropic's system prompt
		req.Messages = append(req.Messages, Message{Role: "system", Content: sys})
	}
	for _, m := range b.Messages {
		req.Messages = append(req.Messages, Message{Role: m.Role, Content: contentText(m.Content)})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	req.N = len(s.requests)
	s.requests = append(s.requests, req)
	n := -1
	if embed {
		n = s.embedCalls
		s.embedCalls++
	}
	return req, n
}

// contentText reads a chat message content: a string or OpenAI's parts.
func contentText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var parts []struct {
		Text string `json:"text"`
	}
	_ = json.Unmarshal(raw, &parts)
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(p.Text)
	}
	return b.String()
}

// gate applies Hold, Arrived and Fail; it reports whether the request was
// answered already.
func (s *Server) gate(w http.ResponseWriter, r *http.Request, req Request) bool {
	if s.opts.Hold != nil {
		if hold := s.opts.Hold(req.N, req.Path); hold != nil {
			if s.opts.Arrived != nil {
				select {
				case s.opts.Arrived <- req.N:
				case <-r.Context().Done():
					return true
				}
			}
			select {
			case <-hold:
			case <-r.Context().Done():
				return true
			}
		}
	}
	if s.opts.Fail != nil {
		if f := s.opts.Fail(req.N, req.Path); f != nil {
			if f.RetryAfter != "" {
				w.Header().Set("Retry-After", f.RetryAfter)
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(f.Status)
			var body any = map[string]any{"error": map[string]any{"message": f.Message, "type": "fake_error"}}
			if s.ollama {
				body = map[string]any{"error": f.Message}
			}
			_ = json.NewEncoder(w).Encode(body)
			return true
		}
	}
	return false
}

func (s *Server) dim(n int) int {
	if s.opts.DimFor != nil {
		return s.opts.DimFor(n)
	}
	return s.opts.Dim
}

// Vector is the deterministic vector the fakes serve for text.
func Vector(text string, dim int) []float32 {
	v := make([]float32, dim)
	h := fnv.New64a()
	_, _ = h.Write([]byte(text))
	x := h.Sum64()
	for i := range v {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v[i] = float32(x%2000)/1000 - 1
	}
	return v
}

// stream hands each of the chat answer's pieces to send, flushing after
// each and pausing TokenDelay between them. It reports false when the
// stream must not be finished: CutAfter dropped the connection or the
// client went away.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, send func(tok string)) bool {
	fl, _ := w.(http.Flusher)
	for i, tok := range s.opts.Tokens {
		if s.opts.CutAfter > 0 && i == s.opts.CutAfter {
			cut(w)
			return false
		}
		send(tok)
		if fl != nil {
			fl.Flush()
		}
		select {
		case <-time.After(s.opts.TokenDelay):
		case <-r.Context().Done():
			return false
		}
	}
	return true
}

// cut drops the client's connection without finishing the response.
func cut(w http.ResponseWriter) {
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			_ = conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
