package app_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
)

func TestLoadConfigOperations(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		env     map[string]string
		wantErr []string
		check   func(t *testing.T, c app.Config)
	}{
		{name: "defaults", check: func(t *testing.T, c app.Config) {
			require.Empty(t, c.MetricsAddr)
			require.Equal(t, 20, c.RateLimitRPS)
			require.Equal(t, 40, c.RateLimitBurst)
			require.Equal(t, 30, c.RateLimitExpensiveRPM)
			require.Zero(t, c.TenantDailyTokens)
			require.Empty(t, c.CORSOrigins)
			require.Equal(t, 10*time.Minute, c.HTTPReadTimeout)
			require.Empty(t, c.SessionSecret)
		}},
		{name: "set", env: map[string]string{
			"RAGQ_METRICS_ADDR": "127.0.0.1:9090", "RAGQ_RATE_LIMIT_RPS": "0", "RAGQ_RATE_LIMIT_BURST": "5",
			"RAGQ_RATE_LIMIT_EXPENSIVE_RPM": "0", "RAGQ_TENANT_DAILY_TOKENS": "100000",
			"RAGQ_CORS_ORIGINS": "https://app.example.com/, http://localhost:3000", "RAGQ_HTTP_READ_TIMEOUT": "90s",
			"RAGQ_SESSION_SECRET": strings.Repeat("s", 32),
		}, check: func(t *testing.T, c app.Config) {
			require.Equal(t, "127.0.0.1:9090", c.MetricsAddr)
			require.Zero(t, c.RateLimitRPS)
			require.Equal(t, 5, c.RateLimitBurst)
			require.Zero(t, c.RateLimitExpensiveRPM)
			require.EqualValues(t, 100000, c.TenantDailyTokens)
			require.Equal(t, []string{"https://app.example.com", "http://localhost:3000"}, c.CORSOrigins)
			require.Equal(t, 90*time.Second, c.HTTPReadTimeout)
		}},
		{name: "any origin", env: map[string]string{"RAGQ_CORS_ORIGINS": "*"},
			check: func(t *testing.T, c app.Config) { require.Equal(t, []string{"*"}, c.CORSOrigins) }},
		{name: "every bad setting named", env: map[string]string{
			"RAGQ_ADDR": "127.0.0.1:8080", "RAGQ_METRICS_ADDR": "127.0.0.1:8080",
			"RAGQ_RATE_LIMIT_RPS": "-1", "RAGQ_RATE_LIMIT_BURST": "0", "RAGQ_RATE_LIMIT_EXPENSIVE_RPM": "many",
			"RAGQ_TENANT_DAILY_TOKENS": "-5", "RAGQ_CORS_ORIGINS": "https://ok.example.com,ftp://x,https://a.example.com/path",
			"RAGQ_HTTP_READ_TIMEOUT": "0s", "RAGQ_SESSION_SECRET": "short",
		}, wantErr: []string{
			"RAGQ_METRICS_ADDR", "RAGQ_RATE_LIMIT_RPS", "RAGQ_RATE_LIMIT_BURST", "RAGQ_RATE_LIMIT_EXPENSIVE_RPM",
			"RAGQ_TENANT_DAILY_TOKENS", `RAGQ_CORS_ORIGINS: "ftp://x"`, `RAGQ_CORS_ORIGINS: "https://a.example.com/path"`,
			"RAGQ_HTTP_READ_TIMEOUT", "RAGQ_SESSION_SECRET",
		}},
		{name: "metrics addr not host:port", env: map[string]string{"RAGQ_METRICS_ADDR": "9090"}, wantErr: []string{"RAGQ_METRICS_ADDR"}},
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
				require.NotContains(t, err.Error(), "ok.example.com")
				return
			}
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}
