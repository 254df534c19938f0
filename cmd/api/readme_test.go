package main

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
)

// TestREADMEStaysTrue checks the parts of the README that drift: every
// setting is documented with its default, and the two set-up commands exist
// in the Makefile.
func TestREADMEStaysTrue(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, s := range append(app.Settings(), app.ProviderVariables()...) {
		require.Contains(t, string(readme), "| `"+s.Name+"` |", "README's configuration table lacks %s", s.Name)
	}
	makefile, err := os.ReadFile("../../Makefile")
	require.NoError(t, err)
	for _, target := range []string{"run:", "test:"} {
		require.True(t, strings.Contains(string(makefile), "\n"+target), "Makefile lacks %s", target)
	}
	require.Contains(t, string(readme), "```sh\nmake run\n```")
	require.Contains(t, string(readme), "```sh\nmake test\n```")
}
