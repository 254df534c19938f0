package app

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/retrieval/provider"
)

// ProviderEnv holds the model providers' own environment variables (the
// names their SDKs document), read by LoadConfig: base URLs for
// self-hosted OpenAI-compatible servers and Ollama, and API keys.
type ProviderEnv struct {
	OpenAIBaseURL    string // OPENAI_BASE_URL
	OpenAIAPIKey     string // OPENAI_API_KEY
	OllamaHost       string // OLLAMA_HOST
	GoogleAPIKey     string // GOOGLE_API_KEY (or GEMINI_API_KEY)
	MistralAPIKey    string // MISTRAL_API_KEY
	VoyageAPIKey     string // VOYAGE_API_KEY
	JinaAPIKey       string // JINA_API_KEY
	AnthropicAPIKey  string // ANTHROPIC_API_KEY
	AnthropicBaseURL string // ANTHROPIC_BASE_URL
}

// ProviderVariables lists the provider variables LoadConfig reads, for the
// README.
func ProviderVariables() []Setting {
	return []Setting{
		{"OPENAI_BASE_URL", "(OpenAI)", "OpenAI-compatible server for openai:MODEL, e.g. http://127.0.0.1:8000/v1 (vLLM, llama.cpp server, LM Studio, LocalAI)"},
		{"OPENAI_API_KEY", "", "key for openai:MODEL (optional with OPENAI_BASE_URL)"},
		{"OLLAMA_HOST", "http://127.0.0.1:11434", "Ollama server for ollama:MODEL"},
		{"GOOGLE_API_KEY", "", "key for googleai:MODEL"},
		{"GEMINI_API_KEY", "", "read when GOOGLE_API_KEY is unset"},
		{"MISTRAL_API_KEY", "", "key for mistral:MODEL"},
		{"VOYAGE_API_KEY", "", "key for voyageai:MODEL"},
		{"JINA_API_KEY", "", "key for jina:MODEL"},
		{"ANTHROPIC_API_KEY", "", "key for anthropic:MODEL"},
		{"ANTHROPIC_BASE_URL", "", "Anthropic-compatible endpoint (including /v1)"},
	}
}

// endpoint is the base URL and API key the variables give provider name
// (as provider.ParseSpec names it); "" for what they leave to the
// provider's default.
func (p ProviderEnv) endpoint(name string) (baseURL, apiKey string) {
	switch name {
	case "openai":
		return p.OpenAIBaseURL, p.OpenAIAPIKey
	case "ollama":
		return p.OllamaHost, ""
	case "anthropic":
		return p.AnthropicBaseURL, p.AnthropicAPIKey
	case "googleai":
		return "", p.GoogleAPIKey
	case "mistral":
		return "", p.MistralAPIKey
	case "voyageai":
		return "", p.VoyageAPIKey
	case "jina":
		return "", p.JinaAPIKey
	}
	return "", ""
}

func loadProviderEnv(get func(name, def string) string) ProviderEnv {
	return ProviderEnv{
		OpenAIBaseURL:    get("OPENAI_BASE_URL", ""),
		OpenAIAPIKey:     get("OPENAI_API_KEY", ""),
		OllamaHost:       get("OLLAMA_HOST", ""),
		GoogleAPIKey:     get("GOOGLE_API_KEY", get("GEMINI_API_KEY", "")),
		MistralAPIKey:    get("MISTRAL_API_KEY", ""),
		VoyageAPIKey:     get("VOYAGE_API_KEY", ""),
		JinaAPIKey:       get("JINA_API_KEY", ""),
		AnthropicAPIKey:  get("ANTHROPIC_API_KEY", ""),
		AnthropicBaseURL: get("ANTHROPIC_BASE_URL", ""),
	}
}

// CheckEmbedder validates a RAGQ_EMBEDDER setting without building the
// embedder (no network): the error says what is accepted.
func CheckEmbedder(spec string) error {
	if isHash(spec) {
		_, err := hashDim(spec)
		return err
	}
	if _, _, err := provider.ParseSpec(spec); err != nil {
		return ragqueue.Errorf(ragqueue.EINVALID, "%s; or hash, hash:DIM (feature hashing, no model)", ragqueue.ErrorMessage(err))
	}
	return nil
}

func isHash(spec string) bool {
	s := strings.ToLower(strings.TrimSpace(spec))
	return s == "hash" || strings.HasPrefix(s, "hash:")
}

// hashDim is the dimension of a hash embedder setting: "hash" (384) or
// "hash:DIM".
func hashDim(spec string) (int, error) {
	switch s := strings.ToLower(strings.TrimSpace(spec)); {
	case s == "hash":
		return 384, nil
	case strings.HasPrefix(s, "hash:"):
		d, err := strconv.Atoi(strings.TrimPrefix(s, "hash:"))
		if err != nil || d < 16 || d > 4096 {
			return 0, ragqueue.Errorf(ragqueue.EINVALID, "%q: the hash dimension must be a whole number from 16 to 4096", spec)
		}
		return d, nil
	}
	return 0, ragqueue.Errorf(ragqueue.EINVALID, "embedder %q is not a hash embedder", spec)
}

// NewEmbedder builds the embedder a RAGQ_EMBEDDER setting names. A model
// provider is asked once for a vector here, which tells its dimension: an
// unreachable provider fails this call, with the provider's message.
func (c Config) NewEmbedder(ctx context.Context, spec string) (retrieval.Embedder, error) {
	if isHash(spec) {
		d, err := hashDim(spec)
		if err != nil {
			return nil, err
		}
		return retrieval.NewHashEmbedder(d), nil
	}
	name, _, err := provider.ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	opts := provider.Options{}
	opts.BaseURL, opts.APIKey = c.Providers.endpoint(name)
	e, err := provider.NewEmbedder(ctx, spec, opts)
	if err != nil {
		return nil, fmt.Errorf("app: embedder %s: %w", spec, err)
	}
	return e, nil
}

// NewGenerator builds the answer generator RAGQ_LLM names: the extractive
// one, or a model through retrieval/provider (no call is made here).
func (c Config) NewGenerator(ctx context.Context) (retrieval.Generator, error) {
	if strings.EqualFold(c.LLM, "extractive") {
		return retrieval.NewExtractive(), nil
	}
	name, _, err := provider.ParseGeneratorSpec(c.LLM)
	if err != nil {
		return nil, err
	}
	opts := provider.GenOptions{MaxContextTokens: c.LLMMaxContextTokens, MaxOutputTokens: c.LLMMaxOutputTokens}
	opts.BaseURL, opts.APIKey = c.Providers.endpoint(name)
	g, err := provider.NewGenerator(ctx, c.LLM, opts)
	if err != nil {
		return nil, fmt.Errorf("app: generator %s: %w", c.LLM, err)
	}
	return g, nil
}
