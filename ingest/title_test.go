package ingest_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue/ingest"
)

func TestCleanTitle(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("é", 300) + ".txt"
	tests := []struct{ name, in, want string }{
		{"plain", "notes.txt", "notes.txt"},
		{"empty", "", ""},
		{"unix path traversal", "../../etc/passwd", "passwd"},
		{"windows path traversal", `..\..\x.txt`, "x.txt"},
		{"mixed separators", `a/b\c/d.md`, "d.md"},
		{"trailing slash", "docs/guide/", "guide"},
		{"only dots", "..", ""},
		{"only slashes", "///", ""},
		{"nul bytes", "no\x00tes\x00.txt", "notes.txt"},
		{"control characters", "a\x01b\x7fc\u0080d.txt", "abcd.txt"},
		{"whitespace collapsed", "  my \t\n  report   final.md  ", "my report final.md"},
		{"bidi override", "invoice\u202Etxt.exe", "invoicetxt.exe"},
		{"invalid utf-8", "caf\xe9.txt", "caf.txt"},
		{"unicode kept", "Über große Dateien 日本語.md", "Über große Dateien 日本語.md"},
		{"long name cut to 200 runes", long, strings.Repeat("é", 200)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.want, ingest.CleanTitle(tt.in))
		})
	}
}
