package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/ragqueue/ragqueue/cmd/internal/app"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs/documents"
	"github.com/ragqueue/ragqueue/jobs/queries"
)

// evalTenant owns every document the embedded evaluation ingests.
const evalTenant = "eval"

// embeddedBackend runs ragqueue's embedded mode in this process on a
// temporary data dir: documents go through the queue and the ingest jobs
// as uploads do, searches go to the index as GET /v1/search does.
type embeddedBackend struct {
	app      *app.App
	svc      app.Services // ingests as uploads do, searches as GET /v1/search does
	maxBytes int64        // RAGQ_MAX_UPLOAD_BYTES
	stop     func()
	dataDir  string
	docs     map[string][]string // document ID → corpus IDs
}

func newEmbeddedBackend(ctx context.Context, getenv func(string) string, stderr io.Writer) (*embeddedBackend, error) {
	dir, err := os.MkdirTemp("", "ragqueue-eval-")
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	cfg, err := app.LoadConfig(func(name string) string {
		switch name {
		case "RAGQ_DATA_DIR":
			return dir
		case "RAGQ_REDIS_URL", "RAGQ_DATABASE_URL", "RAGQ_QDRANT_URL":
			return "" // embedded, whatever the environment says
		}
		return getenv(name)
	})
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	stop, err := a.StartWorkers(ctx)
	if err != nil {
		_ = a.Close()
		_ = os.RemoveAll(dir)
		return nil, err
	}
	return &embeddedBackend{
		app: a, svc: a.Services(), maxBytes: cfg.MaxUploadBytes, stop: stop, dataDir: dir, docs: make(map[string][]string),
	}, nil
}

func (b *embeddedBackend) Describe() string {
	embedder, _ := b.app.Models()
	return "embedded mode, embedder " + embedder
}

// Ingest records each passage as a text document (passage.document) and
// enqueues its ingestion, then waits until all are ready.
func (b *embeddedBackend) Ingest(ctx context.Context, corpus []passage) error {
	var pending []string
	for _, p := range corpus {
		text := p.document()
		info, err := b.svc.Documents.StoreBytes(ctx, strings.NewReader(text), b.maxBytes)
		if err != nil {
			return fmt.Errorf("eval: store passage %s: %w", p.ID, err)
		}
		meta, err := json.Marshal(map[string]string{"beir_id": p.ID})
		if err != nil {
			b.svc.Documents.DiscardBytes(ctx, info)
			return fmt.Errorf("eval: %w", err)
		}
		c, err := b.svc.Documents.Create(ctx, documents.Upload{
			Tenant: evalTenant, Title: p.Title, Source: "beir:" + p.ID,
			ContentType: ingest.TypeText, Blob: info, Metadata: meta,
		})
		if err != nil {
			return fmt.Errorf("eval: create document for passage %s: %w", p.ID, err)
		}
		b.docs[c.Document.ID] = append(b.docs[c.Document.ID], p.ID)
		if !c.Duplicate { // the same text as an earlier passage is not ingested twice
			pending = append(pending, c.Document.ID)
		}
	}
	return waitReady(ctx, pending, func(ctx context.Context, id string) (ragqueue.Status, string, error) {
		d, err := b.svc.Documents.Get(ctx, evalTenant, id)
		return d.Status, d.Error, err
	})
}

// waitReady polls each document until it is ready; a failed or rejected
// document ends the evaluation, since the corpus would be incomplete.
func waitReady(ctx context.Context, ids []string, status func(ctx context.Context, id string) (ragqueue.Status, string, error)) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for len(ids) > 0 {
		st, msg, err := status(ctx, ids[0])
		switch {
		case err != nil:
			return fmt.Errorf("eval: document %s: %w", ids[0], err)
		case st == ragqueue.StatusReady:
			ids = ids[1:]
			continue
		case st == ragqueue.StatusFailed || st == ragqueue.StatusRejected:
			return fmt.Errorf("eval: document %s %s: %s", ids[0], st, msg)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("eval: waiting for %d documents: %w", len(ids), ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// Search searches as GET /v1/search does (queries.Search).
func (b *embeddedBackend) Search(ctx context.Context, mode, text string) ([]string, error) {
	res, err := b.svc.Queries.Search(ctx, queries.SearchRequest{Tenant: evalTenant, Text: text, Mode: apiMode(mode), TopK: searchDepth})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(res.Passages))
	for i, p := range res.Passages {
		ids[i] = p.DocumentID
	}
	return rankDocuments(ids, b.docs), nil
}

func (b *embeddedBackend) Close() error {
	b.stop()
	err := b.app.Close()
	if rerr := os.RemoveAll(b.dataDir); err == nil {
		err = rerr
	}
	return err
}
