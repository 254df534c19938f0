package documents

import (
	"context"
	"errors"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
)

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
	// The record keeps the client's message; the log, the raw error.
	s.cfg.Logger.WarnContext(ctx, "inline ingestion failed", "tenant", doc.Tenant, "doc_id", doc.ID, "job_id", doc.JobID, "error", err)
	s.docFailed(sctx, doc.Tenant, doc.ID, doc.Version, status, msg)
	// The inline ingestion had not created its job record (ingestRun.inline).
	if jerr := s.endJob(sctx, doc.Tenant, doc.JobID, ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateFailed), Error: &msg}, true); jerr != nil {
		s.cfg.Logger.WarnContext(ctx, "record failed ingest job", "tenant", doc.Tenant, "job_id", doc.JobID, "error", jerr)
	}
	return err
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
