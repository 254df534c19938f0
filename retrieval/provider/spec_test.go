package provider

import (
	"testing"

	"github.com/ragqueue/ragqueue"
	"github.com/stretchr/testify/require"
)

func TestParseSpec(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		spec, provider, model string
		err                   string
	}{
		{spec: "openai:text-embedding-3-small", provider: "openai", model: "text-embedding-3-small"},
		{spec: " Ollama:nomic-embed-text:latest ", provider: "ollama", model: "nomic-embed-text:latest"},
		{spec: "googleai:text-embedding-004", provider: "googleai", model: "text-embedding-004"},
		{spec: "voyageai:voyage-3", provider: "voyageai", model: "voyage-3"},
		{spec: "jina:jina-embeddings-v3", provider: "jina", model: "jina-embeddings-v3"},
		{spec: "mistral:mistral-embed", provider: "mistral", model: "mistral-embed"},
		{spec: "anthropic:claude", err: `unknown provider "anthropic", supported: openai:MODEL, ollama:MODEL, googleai:MODEL, mistral:MODEL, voyageai:MODEL, jina:MODEL`},
		{spec: "openai", err: "want provider:model"},
		{spec: "openai:", err: "want provider:model"},
		{spec: "", err: "want provider:model"},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			t.Parallel()
			p, m, err := ParseSpec(tc.spec)
			if tc.err != "" {
				require.Error(t, err)
				require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err))
				require.Contains(t, ragqueue.ErrorMessage(err), tc.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.provider, p)
			require.Equal(t, tc.model, m)
		})
	}
	_, _, err := ParseGeneratorSpec("anthropic:claude-sonnet-4")
	require.NoError(t, err)
	_, _, err = ParseGeneratorSpec("jina:x")
	require.ErrorContains(t, err, "anthropic:MODEL")
}

func TestSpaceName(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		provider, model string
		dim             int
		want            string
	}{
		{"openai", "text-embedding-3-small", 1536, "openai-text-embedding-3-small-1536"},
		{"ollama", "nomic-embed-text:latest", 768, "ollama-nomic-embed-text-latest-768"},
		{"googleai", "models/Text-Embedding-004", 768, "googleai-models-text-embedding-004-768"},
		{"ollama", "hf.co/BAAI/bge-m3:Q8_0", 1024, "ollama-hf-co-baai-bge-m3-q8_0-1024"},
	} {
		require.Equal(t, tc.want, SpaceName(tc.provider, tc.model, tc.dim))
		require.Regexp(t, `^[a-z0-9_-]+$`, tc.want)
	}
}
