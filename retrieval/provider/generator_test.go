package provider

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/ragqueue/ragqueue/retrieval/provider/providertest"
)

var genPassages = []retrieval.Passage{
	{DocumentID: "doc-terms", ChunkID: "doc-terms:3", Title: "Terms of Service", Source: "upload:terms.pdf", Page: 4,
		Text: "Customers may request a full refund within 30 days of purchase."},
	{DocumentID: "doc-faq", ChunkID: "doc-faq:0", Title: "FAQ", Source: "https://example.com/faq",
		Text: "Refunds are paid to the original payment method."},
}

type genBundle struct {
	srv   *providertest.Server
	gen   *Generator
	sleep *sleepRecorder
}

// setupGenerator starts a fake provider (openai, ollama, anthropic) and a
// generator on it.
func setupGenerator(t *testing.T, provider string, fo providertest.Options, opts GenOptions) genBundle {
	t.Helper()
	var srv *providertest.Server
	spec := provider + ":"
	switch provider {
	case OpenAI:
		srv = providertest.NewOpenAI(t, fo)
		spec += "gpt-4o-mini"
		opts.APIKey = "sk-test"
	case Ollama:
		srv = providertest.NewOllama(t, fo)
		spec += "llama3.2"
	case Anthropic:
		srv = providertest.NewAnthropic(t, fo)
		spec += "claude-sonnet-4-5"
		opts.APIKey = "ant-test"
	}
	rec := &sleepRecorder{}
	opts.BaseURL, opts.Logger, opts.sleep = srv.URL, quietLogger(), rec.sleep
	gen, err := NewGenerator(context.Background(), spec, opts)
	require.NoError(t, err)
	return genBundle{srv: srv, gen: gen, sleep: rec}
}

// tokenSink collects streamed pieces.
type tokenSink struct {
	mu     sync.Mutex
	tokens []string
}

func (s *tokenSink) add(tok string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = append(s.tokens, tok)
	return nil
}

func (s *tokenSink) got() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.tokens...)
}

func TestGeneratorStreams(t *testing.T) {
	t.Parallel()
	tokens := []string{"Within", " 30 days", " of purchase", " [1]", "; paid to the original method [2][7]."}
	for _, provider := range []string{OpenAI, Ollama, Anthropic} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			b := setupGenerator(t, provider, providertest.Options{Tokens: tokens, PromptTokens: 120, CompletionTokens: 17},
				GenOptions{MaxOutputTokens: 300})
			var sink tokenSink
			ans, err := b.gen.GenerateStream(context.Background(), "How long do I have for a refund?", genPassages, sink.add)
			require.NoError(t, err)
			require.Equal(t, tokens, sink.got(), "pieces arrive once each, in order")

			require.Equal(t, "Within 30 days of purchase [1]; paid to the original method [2].", ans.Text,
				"[7] points at no passage given and is removed")
			require.Equal(t, b.gen.Name(), ans.Generator)
			require.Equal(t, &retrieval.Usage{PromptTokens: 120, CompletionTokens: 17}, ans.Usage)
			require.Len(t, ans.Citations, 2)
			require.Equal(t, ragqueue.Citation{Index: 1, DocumentID: "doc-terms", ChunkID: "doc-terms:3", Source: "upload:terms.pdf",
				Title: "Terms of Service", Page: 4, Snippet: genPassages[0].Text}, ans.Citations[0])
			require.Equal(t, "doc-faq", ans.Citations[1].DocumentID)

			reqs := b.srv.Requests()
			require.Len(t, reqs, 1)
			r := reqs[0]
			require.True(t, r.Stream)
			require.Equal(t, 300, r.MaxTokens)
			require.Len(t, r.Messages, 2)
			require.Equal(t, "system", r.Messages[0].Role)
			require.Contains(t, r.Messages[0].Content, "untrusted data")
			require.Equal(t, "user", r.Messages[1].Role)
			require.Contains(t, r.Messages[1].Content, "BEGIN PASSAGE 2 ")
			require.Contains(t, r.Messages[1].Content, "Question: How long do I have for a refund?")
		})
	}
}

func TestGeneratorGenerateWithoutStreaming(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{OpenAI, Ollama, Anthropic} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			b := setupGenerator(t, provider, providertest.Options{}, GenOptions{})
			ans, err := b.gen.Generate(context.Background(), "Where is the answer?", genPassages)
			require.NoError(t, err)
			require.Equal(t, "The answer is here [1].", ans.Text)
			require.Equal(t, &retrieval.Usage{PromptTokens: 42, CompletionTokens: 7}, ans.Usage)
			require.False(t, b.srv.Requests()[0].Stream)
			require.Equal(t, DefaultMaxOutputTokens, b.srv.Requests()[0].MaxTokens)
		})
	}
}

func TestGeneratorRetriesBeforeFirstToken(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{OpenAI, Ollama, Anthropic} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			fail := map[int]providertest.Failure{0: {Status: 429, Message: "rate limited", RetryAfter: "2"}, 1: {Status: 500, Message: "oops"}}
			b := setupGenerator(t, provider, providertest.Options{Fail: func(n int, _ string) *providertest.Failure {
				if f, ok := fail[n]; ok {
					return &f
				}
				return nil
			}}, GenOptions{})
			var sink tokenSink
			ans, err := b.gen.GenerateStream(context.Background(), "q?", genPassages, sink.add)
			require.NoError(t, err)
			require.Equal(t, "The answer is here [1].", ans.Text)
			require.Equal(t, []string{"The answer", " is", " here", " [1]."}, sink.got(), "no piece twice")
			require.Len(t, b.srv.Requests(), 3)
			delays := b.sleep.recorded()
			require.Len(t, delays, 2)
			require.GreaterOrEqual(t, delays[0].Seconds(), 2.0, "Retry-After honoured")
		})
	}
}

func TestGeneratorRetriesDisabled(t *testing.T) {
	t.Parallel()
	b := setupGenerator(t, OpenAI, providertest.Options{Fail: func(int, string) *providertest.Failure {
		return &providertest.Failure{Status: 500, Message: "oops"}
	}}, GenOptions{Retry: Retry{MaxRetries: -1}})
	_, err := b.gen.GenerateStream(context.Background(), "q?", genPassages, nil)
	require.Error(t, err)
	require.Equal(t, 1, len(b.srv.Requests()), "MaxRetries < 0 disables retries")
	require.Empty(t, b.sleep.recorded())
}

func TestGeneratorFailureAfterFirstTokenIsNotRetried(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{OpenAI, Ollama, Anthropic} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			b := setupGenerator(t, provider, providertest.Options{CutAfter: 2}, GenOptions{})
			var sink tokenSink
			_, err := b.gen.GenerateStream(context.Background(), "q?", genPassages, sink.add)
			require.Error(t, err)
			require.Contains(t, err.Error(), "stream broke after 2 piece(s)")
			require.Equal(t, ragqueue.EUNAVAILABLE, ragqueue.ErrorCode(err))
			require.Equal(t, []string{"The answer", " is"}, sink.got())
			require.Len(t, b.srv.Requests(), 1, "not restarted")
			require.Empty(t, b.sleep.recorded())
		})
	}
}

func TestGeneratorPermanentError(t *testing.T) {
	t.Parallel()
	b := setupGenerator(t, OpenAI, providertest.Options{Fail: func(int, string) *providertest.Failure {
		return &providertest.Failure{Status: 400, Message: "max_tokens is too large"}
	}}, GenOptions{})
	_, err := b.gen.GenerateStream(context.Background(), "q?", genPassages, nil)
	require.Error(t, err)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.Contains(t, ragqueue.ErrorMessage(err), "max_tokens is too large")
	require.Len(t, b.srv.Requests(), 1)
}

func TestGeneratorOnTokenErrorAborts(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{OpenAI, Ollama, Anthropic} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			b := setupGenerator(t, provider, providertest.Options{}, GenOptions{})
			errGone := errors.New("client went away")
			n := 0
			_, err := b.gen.GenerateStream(context.Background(), "q?", genPassages, func(string) error {
				n++
				if n == 2 {
					return errGone
				}
				return nil
			})
			require.ErrorIs(t, err, errGone)
			require.Equal(t, 2, n, "no piece after the abort")
			require.Len(t, b.srv.Requests(), 1)
		})
	}
}

func TestGeneratorStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	b := setupGenerator(t, OpenAI, providertest.Options{Tokens: strings.Split("a b c d e f g h", " ")}, GenOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got []string
	_, err := b.gen.GenerateStream(ctx, "q?", genPassages, func(tok string) error {
		got = append(got, tok)
		if len(got) == 1 {
			cancel()
		}
		return nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.Less(t, len(got), 8)
}

func TestGeneratorNoPassagesAsksNothing(t *testing.T) {
	t.Parallel()
	b := setupGenerator(t, OpenAI, providertest.Options{}, GenOptions{})
	ans, err := b.gen.Generate(context.Background(), "q?", nil)
	require.NoError(t, err)
	require.Equal(t, retrieval.NoAnswerText, ans.Text)
	require.Empty(t, ans.Citations)
	require.Empty(t, b.srv.Requests())
}

func TestGeneratorNoAnswer(t *testing.T) {
	t.Parallel()
	b := setupGenerator(t, Ollama, providertest.Options{Tokens: []string{retrieval.NoAnswerText, " [9]"}}, GenOptions{})
	ans, err := b.gen.Generate(context.Background(), "What is the capital of Peru?", genPassages)
	require.NoError(t, err)
	require.Equal(t, retrieval.NoAnswerText, ans.Text)
	require.Empty(t, ans.Citations)
}

func TestNewGeneratorRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, msg string }{
		{"openai:gpt-4o", "OPENAI_API_KEY"},
		{"anthropic:claude-sonnet-4", "ANTHROPIC_API_KEY"},
		{"googleai:gemini-2.0-flash", "GOOGLE_API_KEY"},
		{"mistral:mistral-small", "MISTRAL_API_KEY"},
		{"voyageai:voyage-3", "unknown provider"},
		{"ollama:", "want provider:model"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			_, err := NewGenerator(context.Background(), tc.spec, GenOptions{Logger: quietLogger()})
			require.Error(t, err)
			require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
			require.Contains(t, ragqueue.ErrorMessage(err), tc.msg)
		})
	}
}
