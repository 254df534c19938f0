package provider

import (
	"testing"

	sdk "github.com/gage-technologies/mistral-go"
	"github.com/ragqueue/ragqueue/retrieval"
	"github.com/stretchr/testify/require"
)

func TestUsageFrom(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		info map[string]any
		want *retrieval.Usage
	}{
		{"openai_ollama", map[string]any{"PromptTokens": 10, "CompletionTokens": 3, "TotalTokens": 13}, &retrieval.Usage{PromptTokens: 10, CompletionTokens: 3}},
		{"googleai_int32", map[string]any{"PromptTokens": int32(8), "CompletionTokens": int32(2)}, &retrieval.Usage{PromptTokens: 8, CompletionTokens: 2}},
		{"anthropic", map[string]any{"InputTokens": 20, "OutputTokens": 5, "CacheReadInputTokens": 0}, &retrieval.Usage{PromptTokens: 20, CompletionTokens: 5}},
		{"mistral", map[string]any{"usage": sdk.UsageInfo{PromptTokens: 7, CompletionTokens: 1, TotalTokens: 8}}, &retrieval.Usage{PromptTokens: 7, CompletionTokens: 1}},
		{"zeros_mean_unreported", map[string]any{"PromptTokens": 0, "CompletionTokens": 0}, nil},
		{"nothing", nil, nil},
	} {
		require.Equal(t, tc.want, usageFrom(tc.info), tc.name)
	}
}
