package app_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
)

func TestLoadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string // substrings: every bad setting is named
		check   func(t *testing.T, c app.Config)
	}{
		{name: "defaults are embedded", check: func(t *testing.T, c app.Config) {
			require.True(t, c.Embedded())
			require.True(t, c.RunWorkers)
			require.Equal(t, ":8080", c.Addr)
			require.Equal(t, "./data", c.DataDir)
			require.EqualValues(t, 100<<20, c.MaxUploadBytes)
			require.Equal(t, "hash", c.Embedder)
			require.Equal(t, 30*time.Second, c.QueryTimeout)
			require.Empty(t, c.FetchAllowCIDRs)
			require.Equal(t, []uint16{80, 443}, c.FetchAllowedPorts)
			require.Equal(t, 500, c.CrawlMaxPages)
			require.Equal(t, 3, c.CrawlMaxDepth)
			require.Equal(t, 3, c.QueryMaxURLs)
		}},
		{name: "fetch settings", env: map[string]string{
			"RAGQ_FETCH_ALLOW_CIDRS": "127.0.0.0/8, ::1", "RAGQ_FETCH_ALLOWED_PORTS": "80,8080",
			"RAGQ_CRAWL_MAX_PAGES": "50", "RAGQ_CRAWL_MAX_DEPTH": "1", "RAGQ_QUERY_MAX_URLS": "0",
		}, check: func(t *testing.T, c app.Config) {
			require.Len(t, c.FetchAllowCIDRs, 2)
			require.Equal(t, "127.0.0.0/8", c.FetchAllowCIDRs[0].String())
			require.Equal(t, []uint16{80, 8080}, c.FetchAllowedPorts)
			require.Equal(t, 50, c.CrawlMaxPages)
			require.Equal(t, 1, c.CrawlMaxDepth)
			require.Equal(t, 0, c.QueryMaxURLs)
		}},
		{name: "redis without run workers", env: map[string]string{"RAGQ_REDIS_URL": "redis://127.0.0.1:6379/2"},
			check: func(t *testing.T, c app.Config) {
				require.False(t, c.Embedded())
				require.False(t, c.RunWorkers)
			}},
		{name: "redis with run workers", env: map[string]string{"RAGQ_REDIS_URL": "redis://127.0.0.1:6379", "RAGQ_RUN_WORKERS": "true"},
			check: func(t *testing.T, c app.Config) { require.True(t, c.RunWorkers) }},
		{name: "hash dim", env: map[string]string{"RAGQ_EMBEDDER": "hash:128"},
			check: func(t *testing.T, c app.Config) { require.Equal(t, "hash:128", c.Embedder) }},
		{name: "provider embedder", env: map[string]string{
			"RAGQ_EMBEDDER": "openai:text-embedding-3-small", "OPENAI_BASE_URL": "http://127.0.0.1:8000/v1", "OLLAMA_HOST": "127.0.0.1:11434",
		}, check: func(t *testing.T, c app.Config) {
			require.Equal(t, "openai:text-embedding-3-small", c.Embedder)
			require.Equal(t, "http://127.0.0.1:8000/v1", c.Providers.OpenAIBaseURL)
			require.Equal(t, "127.0.0.1:11434", c.Providers.OllamaHost)
		}},
		{name: "every bad setting named", env: map[string]string{
			"RAGQ_ADDR": "nonsense", "RAGQ_WORKER_CONCURRENCY": "0", "RAGQ_MAX_UPLOAD_BYTES": "lots",
			"RAGQ_REDIS_URL": "http://x", "RAGQ_DATABASE_URL": "mysql://x", "RAGQ_EMBEDDER": "word2vec:x",
			"RAGQ_LLM": "gpt", "RAGQ_QUERY_TIMEOUT": "soon", "RAGQ_ADMIN_KEY": "short", "RAGQ_LOG_LEVEL": "loud",
			"RAGQ_CHUNK_SIZE": "200", "RAGQ_CHUNK_OVERLAP": "300", "RAGQ_QDRANT_URL": "ftp://localhost:6334",
			"RAGQ_RUN_WORKERS": "maybe", "RAGQ_LOG_FORMAT": "xml",
			"RAGQ_FETCH_ALLOW_CIDRS": "10.0.0.0/33", "RAGQ_FETCH_ALLOWED_PORTS": "http",
			"RAGQ_CRAWL_MAX_PAGES": "0", "RAGQ_CRAWL_MAX_DEPTH": "-1", "RAGQ_QUERY_MAX_URLS": "many",
		}, wantErr: []string{"RAGQ_FETCH_ALLOW_CIDRS", "RAGQ_FETCH_ALLOWED_PORTS", "RAGQ_CRAWL_MAX_PAGES",
			"RAGQ_CRAWL_MAX_DEPTH", "RAGQ_QUERY_MAX_URLS", "RAGQ_ADDR", "RAGQ_WORKER_CONCURRENCY", "RAGQ_MAX_UPLOAD_BYTES", "RAGQ_REDIS_URL",
			"RAGQ_DATABASE_URL", "RAGQ_EMBEDDER", "RAGQ_LLM", "RAGQ_QUERY_TIMEOUT", "RAGQ_ADMIN_KEY", "RAGQ_LOG_LEVEL",
			"RAGQ_CHUNK_OVERLAP", "RAGQ_QDRANT_URL", "RAGQ_RUN_WORKERS", "RAGQ_LOG_FORMAT"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := app.LoadConfig(func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				require.Error(t, err)
				for _, w := range tt.wantErr {
					require.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestSettingsDocumentsEveryVariable(t *testing.T) {
	t.Parallel()
	read := map[string]bool{}
	_, _ = app.LoadConfig(func(k string) string { read[k] = true; return "" })
	documented := map[string]bool{}
	for _, s := range append(app.Settings(), app.ProviderVariables()...) {
		documented[s.Name] = true
	}
	require.Equal(t, read, documented, "Settings() and ProviderVariables() must list exactly the variables LoadConfig reads")
}
