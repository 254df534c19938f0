package documents

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/google/uuid"
	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
)

// BlobPutter stores bytes and reports their key, hex SHA-256 and size.
// app adapts storage.FileBlobs to it.
type BlobPutter func(ctx context.Context, r io.Reader, maxBytes int64) (key, sha256 string, size int64, err error)

// ReplaceContent gives document cur new content (next's Title, Source,
// ContentType, SHA256, Size, BlobKey, JobID, Metadata) as its next version
// through store.NewVersion, then deletes the blobs the store released. It is
// the one versioning path: PUT /v1/documents/{id}, crawls and questions
// naming URLs all use it. The caller enqueues (or runs) the ingestion.
func ReplaceContent(ctx context.Context, store ragqueue.DocumentStore, blobs BlobDeleter, cur, next ragqueue.Document, logf func(msg string, args ...any)) (ragqueue.Document, error) {
	doc, released, err := store.NewVersion(ctx, cur.Tenant, cur.ID, cur.Version, next)
	if err != nil {
		return ragqueue.Document{}, err
	}
	for _, key := range released {
		if err := blobs.Delete(context.WithoutCancel(ctx), key); err != nil && logf != nil {
			logf("could not delete replaced document bytes", "doc_id", cur.ID, "error", err)
		}
	}
	return doc, nil
}

// CreateDocument records d, whose bytes are already stored under
// d.BlobKey, as a new document through store.CreateDocument. When no
// document is created (an error, or the tenant already holds the same
// bytes: created is false and the existing document comes back), the bytes
// just stored are deleted, as nothing refers to them. It is the one
// creation path of uploads, crawled pages and the evaluation tool; the
// caller enqueues (or runs) the ingestion.
func CreateDocument(ctx context.Context, store ragqueue.DocumentStore, blobs BlobDeleter, d ragqueue.Document, logf func(msg string, args ...any)) (doc ragqueue.Document, created bool, err error) {
	doc, created, err = store.CreateDocument(ctx, d)
	if err == nil && created {
		return doc, true, nil
	}
	if derr := blobs.Delete(context.WithoutCancel(ctx), d.BlobKey); derr != nil && logf != nil {
		logf("could not delete the bytes of a document not created", "blob_key", d.BlobKey, "error", derr)
	}
	return doc, false, err
}

// BlobDeleter deletes stored bytes; a missing blob is not an error.
type BlobDeleter interface {
	Delete(ctx context.Context, key string) error
}

// PageOutcome says what storing a fetched page did.
type PageOutcome string

const (
	PageCreated   PageOutcome = "created"   // a new document
	PageUpdated   PageOutcome = "updated"   // a new version of the URL's document
	PageUnchanged PageOutcome = "unchanged" // same bytes as the URL's document
	PageDuplicate PageOutcome = "duplicate" // same bytes as another document of the tenant
	PageBusy      PageOutcome = "busy"      // the URL's document is still being ingested
)

// StorePage records a fetched page as a document of tenant, deduplicated by
// URL: the URL's document with the same bytes is left alone; with other
// bytes it gets a new version (ReplaceContent); a new URL becomes a new
// document. Bytes that another document of the tenant already holds (the
// same page under two URLs) are that document: outcome duplicate. The
// returned document needs ingesting when outcome is created or updated.
func (s *Service) StorePage(ctx context.Context, tenant string, p web.Page) (ragqueue.Document, PageOutcome, error) {
	if s.cfg.PutBlob == nil {
		return ragqueue.Document{}, "", jobs.Permanent(fmt.Errorf("documents: storing fetched pages is not configured in this worker"))
	}
	body := p.Body // as received: the ingest job parses it like an upload
	cur, err := s.cfg.Store.DocumentBySource(ctx, tenant, p.URL)
	found := err == nil
	if err != nil && !ragqueue.IsNotFound(err) {
		return ragqueue.Document{}, "", fmt.Errorf("documents: find document of %s: %w", p.URL, err)
	}
	if found && cur.SHA256 == sha256Hex(body) {
		return cur, PageUnchanged, nil
	}
	if found && (cur.Status == ragqueue.StatusQueued || cur.Status == ragqueue.StatusProcessing) {
		return cur, PageBusy, nil
	}
	key, sum, size, err := s.cfg.PutBlob(ctx, bytes.NewReader(body), int64(len(body))+1)
	if err != nil {
		return ragqueue.Document{}, "", fmt.Errorf("documents: store page %s: %w", p.URL, err)
	}
	next := ragqueue.Document{
		Tenant: tenant, Title: p.Title, Source: p.URL, ContentType: p.ContentType,
		SHA256: sum, Size: size, BlobKey: key, JobID: uuid.NewString(), Version: 1,
		// The caller ingests a new document at once, in its own task: it is
		// processing from the start (one write fewer per page), which also
		// tells the reconciler that a task has it.
		Status: ragqueue.StatusProcessing,
	}
	if found {
		doc, err := ReplaceContent(ctx, s.cfg.Store, s.cfg.Blobs, cur, next, s.cfg.Logger.Warn)
		if err != nil {
			_ = s.cfg.Blobs.Delete(context.WithoutCancel(ctx), key)
			if ragqueue.ErrorCode(err) == ragqueue.ECONFLICT {
				return cur, PageDuplicate, nil
			}
			return ragqueue.Document{}, "", fmt.Errorf("documents: new version of %s: %w", p.URL, err)
		}
		return doc, PageUpdated, nil
	}
	doc, created, err := CreateDocument(ctx, s.cfg.Store, s.cfg.Blobs, next, s.cfg.Logger.Warn)
	if err != nil {
		return ragqueue.Document{}, "", fmt.Errorf("documents: create document for %s: %w", p.URL, err)
	}
	if !created {
		return doc, PageDuplicate, nil
	}
	return doc, PageCreated, nil
}

// IngestNow ingests doc's current version inside the calling task: parse,
// chunk, embed, index and publish, as the ingest job would, so that a
// question can be answered from it in the same job. Its ingest job record
// is created with the outcome, so that clients polling it see it. page is the
// fetched page the version holds: its extracted text is indexed as is,
// rather than parsed again from the stored bytes. created says that the
// calling task has just created the document.
func (s *Service) IngestNow(ctx context.Context, doc ragqueue.Document, page web.Page, created bool) error {
	if err := s.ingestInline(ctx, doc, page, created); err != nil {
		return s.ingestNowFailed(ctx, doc, err)
	}
	return nil
}

// ingestInline runs the ingestion of doc's current version in the calling
// task, embedding it whatever its size, from page's extracted text (PDFs
// go through the PDF parser). The version's job record is created when the
// ingestion succeeds (the caller records a failure: ingestNowFailed, or the
// ingest queue's job). created says that the calling task has just created
// the document.
func (s *Service) ingestInline(ctx context.Context, doc ragqueue.Document, page web.Page, created bool) error {
	var pre *ingest.Parsed
	if page.ContentType != ingest.TypePDF {
		pre = &page.Parsed
	}
	pa := jobs.ParseArgs{Tenant: doc.Tenant, DocumentID: doc.ID, JobID: doc.JobID, Version: doc.Version}
	return s.parseThenEmbed(ctx, pa, ingestRun{inline: &doc, fresh: created, pre: pre})
}

// IngestCrawled ingests a crawled page's new version inside the crawl
// task, from the text the crawler extracted: no queue round trip and no
// second parse. A page whose text is unusable is rejected as an upload
// would be (ready is false, err says why); any other failure hands the
// version to the ingest queue, whose retries take over (ready is false,
// err nil), so that one bad moment does not fail the page for good.
func (s *Service) IngestCrawled(ctx context.Context, doc ragqueue.Document, page web.Page, created bool) (ready bool, err error) {
	err = s.ingestInline(ctx, doc, page, created)
	if err == nil {
		return true, nil
	}
	if errors.As(err, new(rejection)) || errors.Is(err, asynq.SkipRetry) {
		return false, s.ingestNowFailed(ctx, doc, err)
	}
	sctx, cancel := jobs.SettleContext(ctx)
	defer cancel()
	if qerr := s.EnqueueIngest(sctx, doc); qerr != nil {
		// Still queued or processing in the database: the reconciler
		// enqueues it later.
		s.cfg.Logger.WarnContext(ctx, "enqueue ingest of crawled page", "doc_id", doc.ID, "error", qerr)
	}
	s.cfg.Logger.InfoContext(ctx, "crawled page handed to the ingest queue", "doc_id", doc.ID, "error", err)
	return false, nil
}

// ingestNowFailed settles an inline ingestion that failed: the document and
// its job are marked so, and the error comes back for the caller to report.
func (s *Service) ingestNowFailed(ctx context.Context, doc ragqueue.Document, err error) error {
	sctx, cancel := jobs.SettleContext(ctx)
	defer cancel()
	status := ragqueue.StatusFailed
	if errors.As(err, new(rejection)) {
		status = ragqueue.StatusRejected
	}
	msg := jobs.FailureMessage(err)
	s.docFailed(sctx, doc.Tenant, doc.ID, doc.Version, status, msg)
	// The inline ingestion had not created its job record (ingestRun.inline).
	if jerr := s.endJob(sctx, doc.Tenant, doc.JobID, ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateFailed), Error: &msg}, true); jerr != nil {
		s.cfg.Logger.WarnContext(ctx, "record failed ingest job", "tenant", doc.Tenant, "job_id", doc.JobID, "error", jerr)
	}
	return err
}

// sha256Hex is the hex SHA-256 of b, as the blob store reports it.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CountFetch records one page fetch's outcome in the metrics: fetched, or
// blocked (robots.txt, the SSRF guard, the crawl's scope); other failures
// count as neither.
func (s *Service) CountFetch(err error) {
	switch {
	case err == nil:
		s.cfg.Metrics.CrawlPagesFetched.Inc()
	case errors.Is(err, web.ErrBlocked):
		s.cfg.Metrics.CrawlPagesBlocked.Inc()
	}
}
