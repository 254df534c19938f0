package main

import (
	"os"
	"regexp"
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

// TestREADMEArchitectureNamesRealFolders: every folder the architecture
// table names (in backticks, with a slash or a top-level name) exists, so
// the map from folder to responsibility cannot point at a moved package.
func TestREADMEArchitectureNamesRealFolders(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, arch, ok := strings.Cut(string(readme), "\n## Architecture\n")
	require.True(t, ok, "README has no Architecture section")
	arch, _, _ = strings.Cut(arch, "\n## ")
	folders := regexp.MustCompile("(?m)^\\| `([a-z]+(?:/[a-z]+)*)`").FindAllStringSubmatch(arch, -1)
	inline := regexp.MustCompile("`((?:cmd|jobs|ingest|retrieval|storage)/[a-z/]+)`").FindAllStringSubmatch(arch, -1)
	require.GreaterOrEqual(t, len(folders), 10, "the architecture table lists the folders")
	for _, m := range append(folders, inline...) {
		info, err := os.Stat("../../" + m[1])
		require.NoError(t, err, "README's architecture names %s", m[1])
		require.True(t, info.IsDir(), "%s is a folder", m[1])
	}
}
