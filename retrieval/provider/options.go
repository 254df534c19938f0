package provider

import (
	"context"
	"log/slog"
	"net/http"
	"time"
)

// Retry tunes how calls to a provider are retried on 429, 5xx and network
// errors: exponential backoff from BaseDelay, doubling up to MaxDelay,
// with jitter, and never sooner than the provider's Retry-After.
type Retry struct {
	// MaxRetries is the number of retries after the first attempt; 0
	// means the default (4), a negative value disables retries.
	MaxRetries int
	// BaseDelay is the first backoff (default 500ms).
	BaseDelay time.Duration
	// MaxDelay caps one backoff (default 30s). A Retry-After longer than
	// this ends the retries: the call fails as unavailable instead.
	MaxDelay time.Duration
}

// withDefaults resolves r's zero and negative fields. It is applied once,
// by the constructors: it is not idempotent (a negative MaxRetries becomes
// 0, which a second pass would read as "the default").
func (r Retry) withDefaults() Retry {
	if r.MaxRetries == 0 {
		r.MaxRetries = 4
	}
	if r.MaxRetries < 0 {
		r.MaxRetries = 0
	}
	if r.BaseDelay <= 0 {
		r.BaseDelay = 500 * time.Millisecond
	}
	if r.MaxDelay <= 0 {
		r.MaxDelay = 30 * time.Second
	}
	if r.MaxDelay < r.BaseDelay {
		r.MaxDelay = r.BaseDelay
	}
	return r
}

// Options configure NewEmbedder. The caller fills them from the
// environment (see the field comments); the package reads no variables.
type Options struct {
	// BaseURL overrides the provider's endpoint: OPENAI_BASE_URL for
	// openai (e.g. http://127.0.0.1:8000/v1), OLLAMA_HOST for ollama
	// (http://127.0.0.1:11434 or host:port), the full embeddings URL for
	// jina. Empty means the provider's public default. voyageai and
	// googleai do not support it.
	BaseURL string
	// APIKey is the provider's key: OPENAI_API_KEY, GOOGLE_API_KEY (or
	// GEMINI_API_KEY), MISTRAL_API_KEY, VOYAGE_API_KEY, JINA_API_KEY.
	// Ollama needs none; openai with a BaseURL may go without one.
	APIKey string
	// Dimensions asks models that support it (openai text-embedding-3-*)
	// for shorter vectors; 0 means the model's native size.
	Dimensions int
	// BatchSize is the number of texts per provider call; 0 means the
	// provider's default (openai 256, ollama 32, googleai 100, mistral 32,
	// voyageai 128, jina 64).
	BatchSize int
	// Timeout bounds one provider call (one batch, retries included);
	// default 60s.
	Timeout time.Duration
	// Retry tunes retries of failed calls.
	Retry Retry
	// HTTPClient, when set, is the client whose Transport requests go
	// through (the retrying transport wraps it); default a clone of
	// http.DefaultTransport.
	HTTPClient *http.Client
	// Logger receives retry warnings; default slog.Default().
	Logger *slog.Logger

	// sleep replaces the backoff wait in tests.
	sleep sleepFunc
}

// GenOptions configure NewGenerator. The caller fills them from the
// environment; the package reads no variables.
type GenOptions struct {
	// BaseURL overrides the provider's endpoint: OPENAI_BASE_URL for
	// openai, OLLAMA_HOST for ollama, ANTHROPIC_BASE_URL for anthropic,
	// the endpoint for mistral. Empty means the provider's default.
	BaseURL string
	// APIKey is the provider's key: OPENAI_API_KEY, ANTHROPIC_API_KEY,
	// GOOGLE_API_KEY (or GEMINI_API_KEY), MISTRAL_API_KEY.
	APIKey string
	// MaxContextTokens bounds the passages' share of the prompt
	// (estimated at four characters per token); default
	// retrieval.DefaultMaxContextTokens.
	MaxContextTokens int
	// MaxOutputTokens bounds the answer; default 1024.
	MaxOutputTokens int
	// Temperature of sampling; 0 (the default) asks for the most likely
	// answer.
	Temperature float64
	// Timeout bounds one whole generation, streaming included; default 2m.
	Timeout time.Duration
	// Retry tunes retries, which happen only before the first token.
	Retry Retry
	// HTTPClient: as in Options.
	HTTPClient *http.Client
	// Logger: as in Options.
	Logger *slog.Logger

	sleep sleepFunc
}

// sleepFunc waits d or until ctx ends.
type sleepFunc func(ctx context.Context, d time.Duration) error

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func defaultBatchSize(provider string) int {
	switch provider {
	case OpenAI:
		return 256
	case GoogleAI:
		return 100
	case VoyageAI:
		return 128
	case Jina:
		return 64
	default: // ollama (one request per text anyway), mistral
		return 32
	}
}
