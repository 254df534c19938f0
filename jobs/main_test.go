package jobs_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/ragqueue/ragqueue/ingest/pdf"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// redisServer is the package's redis-server; each test takes a database of
// its own with redisServer.NewDB(t).
var redisServer *redistest.Server

// testExe is this test binary, which TestMain makes a PDF child on demand.
var testExe = func() string { exe, _ := os.Executable(); return exe }()

func TestMain(m *testing.M) {
	// The PDF parser re-executes this test binary as its sandboxed child.
	if pdf.IsChild() {
		os.Exit(pdf.ChildMain())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	srv, err := redistest.Start(ctx)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "jobs tests:", err)
		os.Exit(1)
	}
	redisServer = srv
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}
