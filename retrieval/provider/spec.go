// Package provider connects ragqueue to hosted and local model providers
// through langchaingo: embedders (RAGQ_EMBEDDER) and answer generators
// (RAGQ_LLM), with batching, retries, timeouts and error classification.
// Configuration comes in through Options and GenOptions; the package never
// reads the environment itself.
package provider

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ragqueue/ragqueue"
)

// Provider names as they appear before the colon in a spec.
const (
	OpenAI    = "openai"
	Ollama    = "ollama"
	GoogleAI  = "googleai"
	Mistral   = "mistral"
	VoyageAI  = "voyageai"
	Jina      = "jina"
	Anthropic = "anthropic"
)

// EmbedderProviders are the providers NewEmbedder accepts.
func EmbedderProviders() []string {
	return []string{OpenAI, Ollama, GoogleAI, Mistral, VoyageAI, Jina}
}

// GeneratorProviders are the providers NewGenerator accepts.
func GeneratorProviders() []string {
	return []string{OpenAI, Ollama, Anthropic, GoogleAI, Mistral}
}

// ParseSpec splits an embedder spec "provider:model" (RAGQ_EMBEDDER) and
// checks that the provider is supported; the error, a ragqueue EINVALID,
// lists what is.
func ParseSpec(spec string) (provider, model string, err error) {
	return parseSpec("embedder", spec, EmbedderProviders())
}

// ParseGeneratorSpec is ParseSpec for generator specs (RAGQ_LLM).
func ParseGeneratorSpec(spec string) (provider, model string, err error) {
	return parseSpec("LLM", spec, GeneratorProviders())
}

func parseSpec(kind, spec string, supported []string) (string, string, error) {
	p, m, ok := strings.Cut(strings.TrimSpace(spec), ":")
	p, m = strings.ToLower(strings.TrimSpace(p)), strings.TrimSpace(m)
	forms := make([]string, len(supported))
	for i, s := range supported {
		forms[i] = s + ":MODEL"
	}
	if !ok || p == "" || m == "" {
		return "", "", ragqueue.Errorf(ragqueue.EINVALID,
			"%s spec %q: want provider:model, one of %s", kind, spec, strings.Join(forms, ", "))
	}
	if !slices.Contains(supported, p) {
		return "", "", ragqueue.Errorf(ragqueue.EINVALID,
			"%s spec %q: unknown provider %q, supported: %s", kind, spec, p, strings.Join(forms, ", "))
	}
	return p, m, nil
}

// SpaceName is the embedding-space name of provider, model and dimension:
// lowercase, only [a-z0-9_-], e.g. "openai-text-embedding-3-small-1536".
func SpaceName(provider, model string, dim int) string {
	return sanitizeName(fmt.Sprintf("%s-%s-%d", provider, model, dim))
}

func sanitizeName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_'
		if ok {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	return strings.TrimRight(b.String(), "-")
}
