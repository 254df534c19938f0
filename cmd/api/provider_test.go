package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/retrieval/provider/providertest"
)

// TestProviderEmbedder runs the pipeline with an OpenAI-compatible
// embedder (a loopback fake checking the requests): documents are embedded
// by the provider, the space is named after the model and its discovered
// dimension, and a provider that refuses a request for good fails the
// document with the provider's message, without retries.
func TestProviderEmbedder(t *testing.T) {
	t.Parallel()
	refuse := make(chan struct{})
	fake := providertest.NewOpenAI(t, providertest.Options{Dim: 24, Fail: func(n int, path string) *providertest.Failure {
		select {
		case <-refuse:
			return &providertest.Failure{Status: 401, Message: "Incorrect API key provided: sk-test"}
		default:
			return nil
		}
	}})
	b := setup(t, map[string]string{"RAGQ_EMBEDDER": "openai:fake-embed-v1", "OPENAI_BASE_URL": fake.URL, "OPENAI_API_KEY": "sk-test"})
	writer := b.newKey(t, "models", "writer")

	id, _ := b.postText(t, writer, "Looms", "A Jacquard loom weaves patterns from punched cards, one card per row of the cloth.")
	require.Equal(t, "ready", b.waitStatus(t, writer, id).Status)

	var sr struct {
		searchResp
		Space string `json:"space"`
	}
	require.Equal(t, http.StatusOK, b.do(t, http.MethodGet, "/v1/search?mode=dense&q="+url.QueryEscape("Jacquard loom punched cards"), writer, nil, "", &sr))
	require.Equal(t, "openai-fake-embed-v1-24", sr.Space)
	require.NotEmpty(t, sr.Results)
	require.Equal(t, id, sr.Results[0].DocumentID)

	reqs := fake.RequestsTo("/embeddings")
	require.GreaterOrEqual(t, len(reqs), 3, "the start-up probe, the document, the query")
	for _, r := range reqs {
		require.Equal(t, "fake-embed-v1", r.Model)
		require.Equal(t, "Bearer sk-test", r.Header.Get("Authorization"))
	}
	require.True(t, slices.ContainsFunc(reqs, func(r providertest.Request) bool {
		return slices.ContainsFunc(r.Inputs, func(in string) bool { return strings.Contains(in, "punched cards, one card per row") })
	}), "the document's chunk was sent to the provider")

	close(refuse)
	before := len(fake.RequestsTo("/embeddings"))
	id2, _ := b.postText(t, writer, "Spindles", "A drop spindle twists fibre into yarn as it spins and hangs from the thread.")
	d := b.waitStatus(t, writer, id2)
	require.Equal(t, "failed", d.Status)
	require.Contains(t, d.Error, "Incorrect API key provided")
	require.Equal(t, before+1, len(fake.RequestsTo("/embeddings")), "a refused request is not retried")
}
