package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
)

// TestOpenAPICoversEveryRoute keeps /openapi.json honest: each registered
// route must be documented, and nothing documented may be missing.
func TestOpenAPICoversEveryRoute(t *testing.T) {
	t.Parallel()
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(openapiJSON, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."))

	cfg, err := app.LoadConfig(func(string) string { return "" })
	require.NoError(t, err)
	s := &server{cfg: cfg}
	engine, ok := s.routes().(*gin.Engine)
	require.True(t, ok)
	param := regexp.MustCompile(`[:*]([A-Za-z_]+)`)
	registered := map[string]bool{}
	for _, r := range engine.Routes() {
		path := param.ReplaceAllString(r.Path, "{$1}")
		method := strings.ToLower(r.Method)
		registered[method+" "+path] = true
		ops, ok := doc.Paths[path]
		require.True(t, ok, "route %s %s is not in openapi.json", r.Method, path)
		require.Contains(t, ops, method, "route %s %s is not in openapi.json", r.Method, path)
	}
	for path, ops := range doc.Paths {
		for method := range ops {
			require.True(t, registered[method+" "+path], "openapi.json documents %s %s, which is not registered", method, path)
		}
	}
}
