package provider

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval/provider/providertest"
	"github.com/stretchr/testify/require"
)

// sleepRecorder stands in for backoff waits: it records what would have
// been slept and returns at once (or when ctx ends).
type sleepRecorder struct {
	mu     sync.Mutex
	delays []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.delays = append(s.delays, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleepRecorder) recorded() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.delays...)
}

type embedBundle struct {
	srv   *providertest.Server
	emb   *Embedder
	sleep *sleepRecorder
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// setupOpenAIEmbedder starts a fake OpenAI server and an embedder on it.
func setupOpenAIEmbedder(t *testing.T, fo providertest.Options, opts Options) embedBundle {
	t.Helper()
	srv := providertest.NewOpenAI(t, fo)
	rec := &sleepRecorder{}
	opts.BaseURL, opts.APIKey = srv.URL, "sk-test"
	opts.Logger, opts.sleep = quietLogger(), rec.sleep
	emb, err := NewEmbedder(context.Background(), "openai:text-embedding-3-small", opts)
	require.NoError(t, err)
	return embedBundle{srv: srv, emb: emb, sleep: rec}
}

func texts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("text number %d", i)
	}
	return out
}

func TestEmbedderBatchesAndChecksShape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n, batch int
		want     []int
	}{
		{n: 10, batch: 4, want: []int{4, 4, 2}},
		{n: 8, batch: 4, want: []int{4, 4}},
		{n: 3, batch: 64, want: []int{3}},
		{n: 0, batch: 4, want: nil},
	} {
		t.Run(fmt.Sprintf("%d_by_%d", tc.n, tc.batch), func(t *testing.T) {
			t.Parallel()
			b := setupOpenAIEmbedder(t, providertest.Options{Dim: 12}, Options{BatchSize: tc.batch})
			require.Equal(t, "openai-text-embedding-3-small-12", b.emb.Name())
			require.Equal(t, 12, b.emb.Dim())

			in := texts(tc.n)
			vecs, err := b.emb.Embed(context.Background(), in)
			require.NoError(t, err)
			require.Len(t, vecs, tc.n)
			for i, v := range vecs {
				require.Equal(t, providertest.Vector(in[i], 12), v, "vector %d out of order", i)
			}

			reqs := b.srv.Requests()
			require.Len(t, reqs, 1+len(tc.want), "one probe, then one call per batch")
			require.Equal(t, []string{probeText}, reqs[0].Inputs)
			var sizes []int
			var got []string
			for _, r := range reqs[1:] {
				require.Equal(t, "/v1/embeddings", r.Path)
				require.Equal(t, "text-embedding-3-small", r.Model)
				require.Equal(t, "Bearer sk-test", r.Header.Get("Authorization"))
				sizes = append(sizes, len(r.Inputs))
				got = append(got, r.Inputs...)
			}
			require.Equal(t, tc.want, sizes)
			if tc.n > 0 {
				require.Equal(t, in, got)
			}
		})
	}
}

func TestEmbedderRetries(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		fail     map[int]providertest.Failure // by request number; 0 is the probe
		retry    Retry
		requests int
		code     string // "" means success
		message  string
		minSleep []time.Duration // lower bounds of the recorded waits
	}{
		{
			name:     "429_with_retry_after_then_success",
			fail:     map[int]providertest.Failure{1: {Status: 429, Message: "slow down", RetryAfter: "7"}},
			requests: 3,
			minSleep: []time.Duration{7 * time.Second},
		},
		{
			name:     "500_twice_then_success",
			fail:     map[int]providertest.Failure{1: {Status: 500, Message: "boom"}, 2: {Status: 503, Message: "busy"}},
			requests: 4,
			minSleep: []time.Duration{0, 0},
		},
		{
			name:     "permanent_400_not_retried",
			fail:     map[int]providertest.Failure{1: {Status: 400, Message: "This model's maximum context length is 8192 tokens"}},
			requests: 2,
			code:     ragqueue.EINVALID,
			message:  "This model's maximum context length is 8192 tokens",
		},
		{
			name:     "401_bad_key",
			fail:     map[int]providertest.Failure{1: {Status: 401, Message: "Incorrect API key provided"}},
			requests: 2,
			code:     ragqueue.EINVALID,
			message:  "Incorrect API key provided",
		},
		{
			name: "5xx_until_retries_run_out",
			fail: map[int]providertest.Failure{1: {Status: 502, Message: "bad gateway"}, 2: {Status: 502, Message: "bad gateway"},
				3: {Status: 502, Message: "still bad"}},
			retry:    Retry{MaxRetries: 2},
			requests: 4,
			code:     ragqueue.EUNAVAILABLE,
			message:  "still bad",
			minSleep: []time.Duration{0, 0},
		},
		{
			name:     "retry_after_beyond_max_delay_gives_up",
			fail:     map[int]providertest.Failure{1: {Status: 429, Message: "quota exhausted", RetryAfter: "3600"}},
			requests: 2,
			code:     ragqueue.EUNAVAILABLE,
			message:  "quota exhausted",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fo := providertest.Options{Fail: func(n int, _ string) *providertest.Failure {
				if f, ok := tc.fail[n]; ok {
					return &f
				}
				return nil
			}}
			b := setupOpenAIEmbedder(t, fo, Options{BatchSize: 8, Retry: tc.retry})
			in := texts(5)
			vecs, err := b.emb.Embed(context.Background(), in)
			require.Len(t, b.srv.Requests(), tc.requests)
			delays := b.sleep.recorded()
			require.Len(t, delays, len(tc.minSleep))
			for i, d := range tc.minSleep {
				require.GreaterOrEqual(t, delays[i], d)
			}
			if tc.code == "" {
				require.NoError(t, err)
				require.Len(t, vecs, len(in))
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.code, ragqueue.ErrorCode(err))
			require.Contains(t, ragqueue.ErrorMessage(err), tc.message)
			require.Equal(t, tc.code == ragqueue.EUNAVAILABLE, Retryable(err))
		})
	}
}

func TestEmbedderProbeFailureCarriesProviderMessage(t *testing.T) {
	t.Parallel()
	srv := providertest.NewOpenAI(t, providertest.Options{Fail: func(int, string) *providertest.Failure {
		return &providertest.Failure{Status: 404, Message: "The model `nope` does not exist"}
	}})
	_, err := NewEmbedder(context.Background(), "openai:nope", Options{BaseURL: srv.URL, Logger: quietLogger()})
	require.Error(t, err)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.Contains(t, ragqueue.ErrorMessage(err), "The model `nope` does not exist")
	require.Len(t, srv.Requests(), 1)
	require.Equal(t, "Bearer "+noKey, srv.Requests()[0].Header.Get("Authorization"))
}

func TestEmbedderDetectsDimensionMismatch(t *testing.T) {
	t.Parallel()
	fo := providertest.Options{DimFor: func(n int) int {
		if n == 0 {
			return 8 // the probe
		}
		return 6
	}}
	b := setupOpenAIEmbedder(t, fo, Options{})
	_, err := b.emb.Embed(context.Background(), texts(3))
	require.Error(t, err)
	require.Equal(t, ragqueue.EINTERNAL, ragqueue.ErrorCode(err))
	require.Contains(t, ragqueue.ErrorMessage(err), "6 dimensions, expected 8")
}

func TestEmbedderStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	arrived := make(chan int, 1)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	fo := providertest.Options{
		Hold: func(n int, _ string) <-chan struct{} {
			if n == 0 {
				return nil // let the probe through
			}
			return release
		},
		Arrived: arrived,
	}
	b := setupOpenAIEmbedder(t, fo, Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := b.emb.Embed(ctx, texts(3))
		done <- err
	}()
	<-arrived // the call is in flight and the server holds it
	cancel()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
		require.Empty(t, b.sleep.recorded(), "a cancelled call is not retried")
	case <-time.After(30 * time.Second): // a hang guard, not a timing assertion
		t.Fatal("Embed did not return after its context was cancelled")
	}
}

func TestEmbedderTimeoutIsETIMEOUT(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	fo := providertest.Options{Hold: func(n int, _ string) <-chan struct{} {
		if n == 0 {
			return nil
		}
		return release
	}}
	b := setupOpenAIEmbedder(t, fo, Options{Timeout: 50 * time.Millisecond})
	_, err := b.emb.Embed(context.Background(), texts(1))
	require.Error(t, err)
	require.Equal(t, ragqueue.ETIMEOUT, ragqueue.ErrorCode(err))
	require.True(t, Retryable(err))
}

func TestOllamaEmbedder(t *testing.T) {
	t.Parallel()
	srv := providertest.NewOllama(t, providertest.Options{Dim: 16})
	// OLLAMA_HOST's host:port form.
	emb, err := NewEmbedder(context.Background(), "ollama:nomic-embed-text:latest",
		Options{BaseURL: srv.URL[len("http://"):], BatchSize: 2, Logger: quietLogger()})
	require.NoError(t, err)
	require.Equal(t, "ollama-nomic-embed-text-latest-16", emb.Name())

	in := texts(3)
	vecs, err := emb.Embed(context.Background(), in)
	require.NoError(t, err)
	for i, v := range vecs {
		require.Equal(t, providertest.Vector(in[i], 16), v)
	}
	reqs := srv.RequestsTo("/api/embed")
	require.Len(t, reqs, 4, "langchaingo's Ollama client sends one text per request")
	for i, r := range reqs[1:] {
		require.Equal(t, "nomic-embed-text:latest", r.Model)
		require.Equal(t, []string{in[i]}, r.Inputs)
	}
}

func TestOllamaEmbedderPermanentError(t *testing.T) {
	t.Parallel()
	srv := providertest.NewOllama(t, providertest.Options{Fail: func(int, string) *providertest.Failure {
		return &providertest.Failure{Status: 404, Message: `model "nope" not found, try pulling it first`}
	}})
	_, err := NewEmbedder(context.Background(), "ollama:nope", Options{BaseURL: srv.URL, Logger: quietLogger()})
	require.Error(t, err)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.Contains(t, ragqueue.ErrorMessage(err), `model "nope" not found`)
	require.False(t, errors.Is(err, context.Canceled))
}

func TestNewEmbedderRejectsBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ spec, msg string }{
		{"openai:text-embedding-3-small", "OPENAI_API_KEY"},
		{"voyageai:voyage-3", "VOYAGE_API_KEY"},
		{"jina:jina-embeddings-v3", "JINA_API_KEY"},
		{"mistral:other", "mistral-embed"},
		{"cohere:embed", "unknown provider"},
		{"openai", "want provider:model"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			_, err := NewEmbedder(context.Background(), tc.spec, Options{Logger: quietLogger()})
			require.Error(t, err)
			require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
			require.Contains(t, ragqueue.ErrorMessage(err), tc.msg)
		})
	}
}

// Jina's API has OpenAI's shape at a full URL: the OpenAI fake serves it.
func TestJinaEmbedder(t *testing.T) {
	t.Parallel()
	srv := providertest.NewOpenAI(t, providertest.Options{Dim: 4, Fail: func(n int, _ string) *providertest.Failure {
		if n == 2 {
			return &providertest.Failure{Status: 422, Message: "input too long"}
		}
		return nil
	}})
	emb, err := NewEmbedder(context.Background(), "jina:jina-embeddings-v3",
		Options{BaseURL: srv.URL + "/embeddings", APIKey: "jina-key", BatchSize: 3, Logger: quietLogger()})
	require.NoError(t, err)
	require.Equal(t, "jina-jina-embeddings-v3-4", emb.Name())
	vecs, err := emb.Embed(context.Background(), texts(3))
	require.NoError(t, err)
	require.Len(t, vecs, 3)

	// langchaingo's Jina client reports only the status; the transport
	// kept the provider's message.
	_, err = emb.Embed(context.Background(), texts(1))
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
	require.Contains(t, ragqueue.ErrorMessage(err), "input too long")
	require.Equal(t, "Bearer jina-key", srv.Requests()[1].Header.Get("Authorization"))
}
