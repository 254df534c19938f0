package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// embedFunc embeds one batch; it is a langchaingo EmbedderClient's method.
type embedFunc func(ctx context.Context, texts []string) ([][]float32, error)

// Embedder is a retrieval.Embedder backed by a model provider. It batches
// texts, retries transient failures, bounds each call by a timeout, and
// checks that every vector has the dimension found at construction. It is
// safe for concurrent use.
type Embedder struct {
	provider, model string
	name            string
	dim             int
	batch           int
	timeout         time.Duration
	embed           embedFunc
	retrier         *retrier
	// selfRetry: the client bypasses our HTTP transport (gRPC), so
	// retries happen here, around whole calls.
	selfRetry bool
	close     func() error
}

var (
	_ retrieval.Embedder   = (*Embedder)(nil)
	_ retrieval.CallBiller = (*Embedder)(nil)
)

// probeText is embedded once at construction to learn the dimension.
const probeText = "ragqueue dimension probe"

// NewEmbedder returns the embedder of spec ("provider:model", the syntax
// of RAGQ_EMBEDDER; see ParseSpec). It embeds one probe text to learn the
// vector dimension, so it fails now, with the provider's message, when
// the provider is unreachable, the key is wrong or the model unknown.
func NewEmbedder(ctx context.Context, spec string, opts Options) (*Embedder, error) {
	provider, model, err := ParseSpec(spec)
	if err != nil {
		return nil, err
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = defaultBatchSize(provider)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	r := newRetrier(provider, opts.Retry, opts.sleep, opts.Logger)
	opts.Retry = r.retry // mistral's client retries by itself, as often
	e := &Embedder{
		provider: provider, model: model,
		batch: opts.BatchSize, timeout: opts.Timeout,
		retrier: r,
		close:   func() error { return nil },
	}
	if err := e.connect(ctx, opts); err != nil {
		return nil, fmt.Errorf("provider: %s embedder: %w", provider, err)
	}
	vecs, err := e.call(ctx, []string{probeText})
	if err != nil {
		_ = e.close()
		return nil, fmt.Errorf("provider: %s probe: %w", spec, err)
	}
	if len(vecs) != 1 || len(vecs[0]) == 0 {
		_ = e.close()
		return nil, ragqueue.Errorf(ragqueue.EUNAVAILABLE, "provider: %s probe: the provider returned no vector", spec)
	}
	e.dim = len(vecs[0])
	e.name = SpaceName(provider, model, e.dim)
	return e, nil
}

// Name identifies the embedding space, e.g.
// "openai-text-embedding-3-small-1536".
func (e *Embedder) Name() string { return e.name }

// BillsPerCall is true: a provider is paid (in latency and rate limits,
// often in money) per request, so small documents should share calls.
func (e *Embedder) BillsPerCall() bool { return true }

// Dim is the length of every vector Embed returns.
func (e *Embedder) Dim() int { return e.dim }

// Close releases the provider client's connections (googleai holds a
// gRPC connection; the others hold nothing that needs closing).
func (e *Embedder) Close() error { return e.close() }

// Embed returns one vector per text, in order, calling the provider once
// per BatchSize texts. A vector whose length is not Dim fails the call
// (ragqueue EINTERNAL): it must never reach an index of this space.
func (e *Embedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for start := 0; start < len(texts); start += e.batch {
		batch := texts[start:min(start+e.batch, len(texts))]
		vecs, err := e.call(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("provider: %s embed texts %d-%d of %d: %w", e.name, start+1, start+len(batch), len(texts), err)
		}
		for i, v := range vecs {
			if len(v) != e.dim {
				return nil, ragqueue.Errorf(ragqueue.EINTERNAL,
					"provider: %s: text %d: the provider returned a vector of %d dimensions, expected %d (did the model change?)",
					e.name, start+i+1, len(v), e.dim)
			}
		}
		out = append(out, vecs...)
	}
	return out, nil
}

// call embeds one batch within the timeout, retrying here when the client
// bypasses the retrying transport.
func (e *Embedder) call(ctx context.Context, batch []string) ([][]float32, error) {
	for attempt := 0; ; attempt++ {
		vecs, err := e.callOnce(ctx, batch)
		if err == nil || !e.selfRetry || !e.retrier.again(ctx, attempt, err) {
			return vecs, err
		}
	}
}

func (e *Embedder) callOnce(ctx context.Context, batch []string) ([][]float32, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	callCtx, st := withCallState(callCtx)
	vecs, err := e.embed(callCtx, batch)
	if err != nil {
		return nil, classify(ctx, callCtx, st, e.provider+" embeddings", err)
	}
	if len(vecs) != len(batch) {
		return nil, ragqueue.Errorf(ragqueue.EINTERNAL, "%s embeddings: the provider returned %d vectors for %d texts", e.provider, len(vecs), len(batch))
	}
	return vecs, nil
}
