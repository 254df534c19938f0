package provider

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/ragqueue/ragqueue"
	"github.com/tmc/langchaingo/embeddings/jina"
	"github.com/tmc/langchaingo/embeddings/voyageai"
	"github.com/tmc/langchaingo/llms"
	"github.com/tmc/langchaingo/llms/anthropic"
	"github.com/tmc/langchaingo/llms/googleai"
	"github.com/tmc/langchaingo/llms/mistral"
	"github.com/tmc/langchaingo/llms/ollama"
	"github.com/tmc/langchaingo/llms/openai"
)

// noKey stands in for the API key of an OpenAI-compatible server that
// needs none (vLLM, llama.cpp, LocalAI): langchaingo insists on one.
const noKey = "not-needed"

// connect builds the provider's langchaingo client for embeddings.
func (e *Embedder) connect(ctx context.Context, opts Options) error {
	hc := newHTTPClient(opts.HTTPClient, e.retrier)
	switch e.provider {
	case OpenAI:
		return e.connectOpenAI(opts, hc)
	case Ollama:
		return e.connectOllama(opts, hc)
	case GoogleAI:
		return e.connectGoogleAI(ctx, opts)
	case Mistral:
		return e.connectMistral(opts)
	case VoyageAI:
		return e.connectVoyageAI(opts, hc)
	case Jina:
		return e.connectJina(opts, hc)
	}
	return nil
}

func (e *Embedder) connectOpenAI(opts Options, hc *http.Client) error {
	key, err := openAIKey(opts.APIKey, opts.BaseURL)
	if err != nil {
		return err
	}
	o := []openai.Option{openai.WithToken(key), openai.WithEmbeddingModel(e.model), openai.WithModel(e.model), openai.WithHTTPClient(hc)}
	// Without a BaseURL langchaingo would read OPENAI_BASE_URL itself.
	o = append(o, openai.WithBaseURL(firstNonEmpty(opts.BaseURL, "https://api.openai.com/v1")))
	if opts.Dimensions > 0 {
		o = append(o, openai.WithEmbeddingDimensions(opts.Dimensions))
	}
	llm, err := openai.New(o...)
	if err != nil {
		return err
	}
	e.embed = llm.CreateEmbedding
	return nil
}

func (e *Embedder) connectOllama(opts Options, hc *http.Client) error {
	u, err := ollamaURL(opts.BaseURL)
	if err != nil {
		return err
	}
	llm, err := ollama.New(ollama.WithModel(e.model), ollama.WithServerURL(u), ollama.WithHTTPClient(hc))
	if err != nil {
		return err
	}
	e.embed = llm.CreateEmbedding
	return nil
}

// connectGoogleAI: the Google client retries by itself (selfRetry).
func (e *Embedder) connectGoogleAI(ctx context.Context, opts Options) error {
	if opts.APIKey == "" {
		return missingKey("GOOGLE_API_KEY")
	}
	llm, err := googleai.New(ctx, googleai.WithAPIKey(opts.APIKey), googleai.WithDefaultEmbeddingModel(e.model))
	if err != nil {
		return err
	}
	e.embed, e.close, e.selfRetry = llm.CreateEmbedding, llm.Close, true
	return nil
}

func (e *Embedder) connectMistral(opts Options) error {
	if e.model != "mistral-embed" {
		return ragqueue.Errorf(ragqueue.EINVALID, "mistral embeddings: only the model mistral-embed is supported, not %q", e.model)
	}
	if opts.APIKey == "" {
		return missingKey("MISTRAL_API_KEY")
	}
	mo := []mistral.Option{mistral.WithAPIKey(opts.APIKey), mistral.WithTimeout(opts.Timeout), mistral.WithMaxRetries(opts.Retry.MaxRetries)}
	if opts.BaseURL != "" {
		mo = append(mo, mistral.WithEndpoint(opts.BaseURL))
	}
	m, err := mistral.New(mo...)
	if err != nil {
		return err
	}
	e.embed = detachCtx(m.CreateEmbedding)
	return nil
}

func (e *Embedder) connectVoyageAI(opts Options, hc *http.Client) error {
	if opts.APIKey == "" {
		return missingKey("VOYAGE_API_KEY")
	}
	v, err := voyageai.NewVoyageAI(voyageai.WithModel(e.model), voyageai.WithToken(opts.APIKey),
		voyageai.WithClient(*hc), voyageai.WithStripNewLines(false), voyageai.WithBatchSize(opts.BatchSize))
	if err != nil {
		return err
	}
	e.embed = v.EmbedDocuments
	return nil
}

func (e *Embedder) connectJina(opts Options, hc *http.Client) error {
	if opts.APIKey == "" {
		return missingKey("JINA_API_KEY")
	}
	jo := []jina.Option{jina.WithModel(e.model), jina.WithAPIKey(opts.APIKey), jina.WithClient(hc),
		jina.WithStripNewLines(false), jina.WithBatchSize(opts.BatchSize)}
	if opts.BaseURL != "" {
		jo = append(jo, jina.WithAPIBaseURL(opts.BaseURL))
	}
	j, err := jina.NewJina(jo...)
	if err != nil {
		return err
	}
	e.embed = j.CreateEmbedding
	return nil
}

// newLLM builds the provider's langchaingo chat model.
func newLLM(ctx context.Context, provider, model string, opts GenOptions, hc *http.Client) (llms.Model, func() error, error) {
	noop := func() error { return nil }
	switch provider {
	case OpenAI:
		key, err := openAIKey(opts.APIKey, opts.BaseURL)
		if err != nil {
			return nil, nil, err
		}
		llm, err := openai.New(openai.WithToken(key), openai.WithModel(model), openai.WithHTTPClient(hc),
			openai.WithBaseURL(firstNonEmpty(opts.BaseURL, "https://api.openai.com/v1")))
		return llm, noop, err
	case Ollama:
		u, err := ollamaURL(opts.BaseURL)
		if err != nil {
			return nil, nil, err
		}
		llm, err := ollama.New(ollama.WithModel(model), ollama.WithServerURL(u), ollama.WithHTTPClient(hc))
		return llm, noop, err
	case Anthropic:
		if opts.APIKey == "" {
			return nil, nil, missingKey("ANTHROPIC_API_KEY")
		}
		ao := []anthropic.Option{anthropic.WithToken(opts.APIKey), anthropic.WithModel(model), anthropic.WithHTTPClient(hc)}
		if opts.BaseURL != "" {
			ao = append(ao, anthropic.WithBaseURL(opts.BaseURL))
		}
		llm, err := anthropic.New(ao...)
		return llm, noop, err
	case GoogleAI:
		if opts.APIKey == "" {
			return nil, nil, missingKey("GOOGLE_API_KEY")
		}
		llm, err := googleai.New(ctx, googleai.WithAPIKey(opts.APIKey), googleai.WithDefaultModel(model))
		if err != nil {
			return nil, nil, err
		}
		return llm, llm.Close, nil
	case Mistral:
		if opts.APIKey == "" {
			return nil, nil, missingKey("MISTRAL_API_KEY")
		}
		mo := []mistral.Option{mistral.WithAPIKey(opts.APIKey), mistral.WithModel(model), mistral.WithTimeout(opts.Timeout),
			mistral.WithMaxRetries(opts.Retry.MaxRetries)}
		if opts.BaseURL != "" {
			mo = append(mo, mistral.WithEndpoint(opts.BaseURL))
		}
		m, err := mistral.New(mo...)
		return m, noop, err
	}
	return nil, nil, ragqueue.Errorf(ragqueue.EINVALID, "unknown provider %q", provider)
}

func openAIKey(key, baseURL string) (string, error) {
	switch {
	case key != "":
		return key, nil
	case baseURL != "":
		return noKey, nil
	}
	return "", missingKey("OPENAI_API_KEY (or an OPENAI_BASE_URL of a server that needs none)")
}

func missingKey(name string) error {
	return ragqueue.Errorf(ragqueue.EINVALID, "missing API key: set %s", name)
}

// ollamaURL accepts OLLAMA_HOST's forms: a URL, or host[:port].
func ollamaURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "http://127.0.0.1:11434", nil
	}
	bare := !strings.Contains(raw, "://")
	if bare {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "", ragqueue.Errorf(ragqueue.EINVALID, "ollama base URL %q is not a URL or host:port", raw)
	}
	if bare && u.Port() == "" {
		u.Host += ":11434" // OLLAMA_HOST=host means Ollama's port
	}
	return u.String(), nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// detachCtx makes a call that ignores its context (mistral-go) return as
// soon as the context ends; the abandoned call finishes in the background,
// bounded by the client's own timeout.
func detachCtx(f embedFunc) embedFunc {
	return func(ctx context.Context, texts []string) ([][]float32, error) {
		type result struct {
			v   [][]float32
			err error
		}
		ch := make(chan result, 1)
		go func() {
			v, err := f(ctx, texts)
			ch <- result{v, err}
		}()
		select {
		case r := <-ch:
			return r.v, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
