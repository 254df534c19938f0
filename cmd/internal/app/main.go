package app

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ragqueue/ragqueue/ingest/pdf"
)

// Main is the body of cmd/api's and cmd/worker's main: it serves PDF parsing
// when the process was started as a PDF child (PDFs are parsed by the same
// binary in a sandboxed child process), otherwise calls run with a context
// cancelled by SIGINT or SIGTERM, and exits 1 with "ragqueue name: error"
// when run fails.
func Main(name string, run func(ctx context.Context, getenv func(string) string, stderr io.Writer) error) {
	if pdf.IsChild() {
		os.Exit(pdf.ChildMain())
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Getenv, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "ragqueue %s: %v\n", name, err)
		os.Exit(1)
	}
}
