package queries_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/jobs/queries"
)

func TestQuestionURLs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		question string
		urls     []string
		limit    int
		want     []string
		wantErr  string
	}{
		{"none", "how do tomatoes grow?", nil, 3, nil, ""},
		{"in text, normalised, punctuation dropped", "see HTTPS://Example.COM:443/a#frag, and http://x.example/b.", nil, 3,
			[]string{"https://example.com/a", "http://x.example/b"}, ""},
		{"explicit first, deduplicated", "compare https://example.com/a", []string{"https://example.com/a", "https://example.com/b"}, 3,
			[]string{"https://example.com/a", "https://example.com/b"}, ""},
		{"explicit must be http", "q", []string{"file:///etc/passwd"}, 3, nil, "not an absolute http or https URL"},
		{"over the cap", "https://a.example/ https://b.example/", nil, 1, nil, "RAGQ_QUERY_MAX_URLS"},
		{"turned off: text ignored", "see https://a.example/", nil, 0, nil, ""},
		{"turned off: explicit refused", "q", []string{"https://a.example/"}, 0, nil, "turned off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := queries.QuestionURLs(tt.question, tt.urls, tt.limit)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
