package app

import (
	"context"
	"fmt"
	"os"

	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/pdf"
	"github.com/ragqueue/ragqueue/ingest/web"
)

// openPipeline makes the parts the jobs work with: the generator, the
// chunker, the PDF parser and the guarded web client.
func (a *App) openPipeline(ctx context.Context) (err error) {
	cfg := a.cfg
	if a.generator, err = cfg.NewGenerator(ctx); err != nil {
		return fmt.Errorf("app: RAGQ_LLM: %w", err)
	}
	a.chunker = ingest.Chunker{Size: cfg.ChunkSize, Overlap: cfg.ChunkOverlap}
	a.pdf = pdf.NewParser(selfExe(), pdf.Limits{
		Timeout: cfg.PDFTimeout, MemoryBytes: cfg.PDFMaxMemory, MaxPages: cfg.PDFMaxPages, Parallelism: cfg.PDFParallelism,
	})
	a.webClient = web.NewClient(web.GuardOptions{AllowCIDRs: cfg.FetchAllowCIDRs, AllowedPorts: cfg.FetchAllowedPorts})
	a.fetcher = web.NewFetcher(a.webClient, web.FetchOptions{})
	return nil
}

// selfExe is the binary PDF children are started from: this process's own
// image. /proc/self/exe keeps pointing at it even if a deploy replaces the
// file on disk while the process runs.
func selfExe() string {
	if _, err := os.Stat("/proc/self/exe"); err == nil {
		return "/proc/self/exe"
	}
	exe, err := os.Executable()
	if err != nil {
		return os.Args[0]
	}
	return exe
}
