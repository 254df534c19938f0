package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tmc/langchaingo/llms"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// DefaultMaxOutputTokens bounds an answer when GenOptions do not.
const DefaultMaxOutputTokens = 1024

// Generator is a retrieval.StreamingGenerator backed by a chat model. It
// prompts with fenced, numbered passages (retrieval.BuildPrompt), maps the
// answer's [n] markers back to them (retrieval.ParseCitations) and records
// the provider's token usage. Transient failures are retried only before
// the first token; once text has streamed, a failure ends the answer with
// the provider's message. It is safe for concurrent use.
type Generator struct {
	provider, model string
	llm             llms.Model
	close           func() error
	opts            GenOptions
	retrier         *retrier
	// selfRetry: the client bypasses our HTTP transport (gRPC).
	selfRetry bool
}

var _ retrieval.StreamingGenerator = (*Generator)(nil)

// NewGenerator returns the generator of spec ("provider:model", the syntax
// of RAGQ_LLM; see ParseGeneratorSpec). It does not call the provider.
func NewGenerator(ctx context.Context, spec string, opts GenOptions) (*Generator, error) {
	provider, model, err := ParseGeneratorSpec(spec)
	if err != nil {
		return nil, err
	}
	if opts.MaxOutputTokens <= 0 {
		opts.MaxOutputTokens = DefaultMaxOutputTokens
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	r := newRetrier(provider, opts.Retry, opts.sleep, opts.Logger)
	opts.Retry = r.retry // mistral's client retries by itself, as often
	hc := newHTTPClient(opts.HTTPClient, r)
	llm, closeFn, err := newLLM(ctx, provider, model, opts, hc)
	if err != nil {
		return nil, fmt.Errorf("provider: %s generator: %w", provider, err)
	}
	return &Generator{provider: provider, model: model, llm: llm, close: closeFn, opts: opts, retrier: r, selfRetry: provider == GoogleAI}, nil
}

// Name identifies the generator in answers: "provider:model".
func (g *Generator) Name() string { return g.provider + ":" + g.model }

// Close releases the client's connections (googleai's gRPC connection).
func (g *Generator) Close() error { return g.close() }

// Generate answers question from passages without streaming.
func (g *Generator) Generate(ctx context.Context, question string, passages []retrieval.Passage) (retrieval.Answer, error) {
	return g.generate(ctx, question, passages, nil)
}

// GenerateStream answers question from passages, handing each piece of
// the model's text to onToken as it arrives. onToken's pieces are raw:
// the returned Answer's Text has citation markers to passages that were
// not given removed. An error from onToken aborts and is returned.
func (g *Generator) GenerateStream(ctx context.Context, question string, passages []retrieval.Passage, onToken func(token string) error) (retrieval.Answer, error) {
	if onToken == nil {
		onToken = func(string) error { return nil }
	}
	return g.generate(ctx, question, passages, onToken)
}

func (g *Generator) generate(ctx context.Context, question string, passages []retrieval.Passage, onToken func(string) error) (retrieval.Answer, error) {
	if len(passages) == 0 {
		// Nothing to answer from: no need to ask (and pay) a model.
		return retrieval.Answer{Text: retrieval.NoAnswerText, Citations: []ragqueue.Citation{}, Generator: g.Name()}, nil
	}
	prompt := retrieval.BuildPrompt(question, passages, retrieval.PromptOptions{MaxContextTokens: g.opts.MaxContextTokens})
	msgs := []llms.MessageContent{
		llms.TextParts(llms.ChatMessageTypeSystem, prompt.System),
		llms.TextParts(llms.ChatMessageTypeHuman, prompt.User),
	}
	for attempt := 0; ; attempt++ {
		ans, streamed, err := g.once(ctx, msgs, prompt.Passages, onToken)
		if err == nil {
			return ans, nil
		}
		if streamed || !g.selfRetry || !g.retrier.again(ctx, attempt, err) {
			return retrieval.Answer{}, fmt.Errorf("provider: %s generate: %w", g.Name(), err)
		}
	}
}

// errAborted marks a stream stopped by the caller's onToken.
var errAborted = errors.New("aborted by the token consumer")

// once runs one generation; streamed reports whether any text reached
// onToken (after which the call must not be repeated).
func (g *Generator) once(ctx context.Context, msgs []llms.MessageContent, given []retrieval.Passage, onToken func(string) error) (retrieval.Answer, bool, error) {
	callCtx, cancel := context.WithTimeout(ctx, g.opts.Timeout)
	defer cancel()
	callCtx, st := withCallState(callCtx)

	callOpts := []llms.CallOption{llms.WithMaxTokens(g.opts.MaxOutputTokens), llms.WithTemperature(g.opts.Temperature)}
	var (
		tokens   int
		streamed strings.Builder
		abortErr error
	)
	if onToken != nil {
		callOpts = append(callOpts, llms.WithStreamingFunc(func(_ context.Context, chunk []byte) error {
			if err := callCtx.Err(); err != nil {
				return err // for clients that do not watch ctx themselves (mistral)
			}
			if len(chunk) == 0 {
				return nil
			}
			tokens++
			streamed.Write(chunk)
			if err := onToken(string(chunk)); err != nil {
				abortErr = err
				return fmt.Errorf("%w: %w", errAborted, err)
			}
			return nil
		}))
	}
	resp, err := g.generateContent(callCtx, msgs, callOpts)
	if abortErr != nil {
		return retrieval.Answer{}, true, abortErr
	}
	if err == nil {
		// Clients may return what they had so far, without an error, when
		// the context ends mid-stream (openai) or the stream breaks
		// (ollama): such an answer is cut short, not finished.
		if cerr := callCtx.Err(); cerr != nil {
			err = cerr
		} else if _, _, _, bodyErr := st.snapshot(); bodyErr != nil {
			err = bodyErr
		}
	}
	if err != nil {
		cerr := classify(ctx, callCtx, st, g.provider+" chat", err)
		if tokens > 0 && ctx.Err() == nil {
			cerr = fmt.Errorf("stream broke after %d piece(s) of text: %w", tokens, cerr)
		}
		return retrieval.Answer{}, tokens > 0, cerr
	}
	if len(resp.Choices) == 0 {
		return retrieval.Answer{}, tokens > 0, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "%s chat: the provider returned no answer", g.provider)
	}
	choice := resp.Choices[0]
	text := choice.Content
	if text == "" && streamed.Len() > 0 {
		text = streamed.String()
	}
	text, citations := retrieval.ParseCitations(strings.TrimSpace(text), given)
	if len(citations) == 0 && strings.Contains(text, retrieval.NoAnswerText) {
		text = retrieval.NoAnswerText
	}
	return retrieval.Answer{Text: text, Citations: citations, Generator: g.Name(), Usage: usageFrom(choice.GenerationInfo)}, tokens > 0, nil
}

// generateContent calls the model, turning a panic in the client library
// (seen on malformed provider output) into an error.
func (g *Generator) generateContent(ctx context.Context, msgs []llms.MessageContent, opts []llms.CallOption) (resp *llms.ContentResponse, err error) {
	defer func() {
		if r := recover(); r != nil {
			resp, err = nil, ragqueue.Errorf(ragqueue.EINTERNAL, "%s chat: the provider client panicked: %v", g.provider, r)
		}
	}()
	return g.llm.GenerateContent(ctx, msgs, opts...)
}
