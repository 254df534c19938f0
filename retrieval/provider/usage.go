package provider

import (
	sdk "github.com/gage-technologies/mistral-go"
	"github.com/ragqueue/ragqueue/retrieval"
)

// usageFrom reads the token counts a provider reported in langchaingo's
// GenerationInfo, whose keys differ per provider: PromptTokens and
// CompletionTokens (openai, ollama, googleai), InputTokens and
// OutputTokens (anthropic), "usage" (mistral). Nil when none reported.
func usageFrom(info map[string]any) *retrieval.Usage {
	if info == nil {
		return nil
	}
	var u retrieval.Usage
	switch {
	case has(info, "PromptTokens") || has(info, "CompletionTokens"):
		u.PromptTokens, u.CompletionTokens = toInt(info["PromptTokens"]), toInt(info["CompletionTokens"])
	case has(info, "InputTokens") || has(info, "OutputTokens"):
		u.PromptTokens, u.CompletionTokens = toInt(info["InputTokens"]), toInt(info["OutputTokens"])
	default:
		switch m := info["usage"].(type) {
		case sdk.UsageInfo:
			u.PromptTokens, u.CompletionTokens = m.PromptTokens, m.CompletionTokens
		case *sdk.UsageInfo:
			if m != nil {
				u.PromptTokens, u.CompletionTokens = m.PromptTokens, m.CompletionTokens
			}
		}
	}
	if u.PromptTokens == 0 && u.CompletionTokens == 0 {
		return nil
	}
	return &u
}

func has(m map[string]any, k string) bool {
	_, ok := m[k]
	return ok
}

func toInt(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int32:
		return int(n)
	case int64:
		return int(n)
	case uint32:
		return int(n)
	case uint64:
		return int(n)
	case float64:
		return int(n)
	case float32:
		return int(n)
	}
	return 0
}
