package documents

import (
	"context"
	"fmt"
	"strings"

	"github.com/hibiken/asynq"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
)

// parse reads a document version's bytes, parses and chunks them, stores the
// chunks (replacing any from an earlier attempt) and enqueues the embedding.
// Running it twice stores the same chunks under the same IDs.
func (s *Service) parse(ctx context.Context, a jobs.ParseArgs) error {
	return s.parseThenEmbed(ctx, a, ingestRun{})
}

// ingestRun says how one ingestion of a document version runs.
type ingestRun struct {
	// inline is the document version, as the task that stored it got it
	// back from the store (it is not read again), when another job (a crawl,
	// a question) runs the ingestion inside its own task. The version is
	// then embedded in that task whatever its size, and its job record gets
	// no progress (the other job reports its own): it is created when the
	// ingestion ends, in its final state. Nobody follows that job while it
	// runs, and one write replaces a creation and the updates.
	inline *ragqueue.Document
	// fresh: the calling task has just created the document, so no earlier
	// version or attempt has vectors to reuse and none are looked up.
	fresh bool
	// pre is the text already extracted from the version's bytes (by the
	// crawler that fetched them), used instead of parsing them again.
	pre *ingest.Parsed
	// vectors are vectors already made (by a cross-document batch), by
	// content hash; they are used before anything is looked up or embedded.
	vectors map[string][]float32
}

// isInline reports whether another job runs this ingestion (run.inline).
func (r ingestRun) isInline() bool { return r.inline != nil }

// parseThenEmbed is parse, embedding in this task rather than a separate
// one when there are at most InlineEmbedChunks chunks, or the ingestion is
// inline. Whenever the document turns out deleted or replaced, the task
// settles as stale (skipStale).
func (s *Service) parseThenEmbed(ctx context.Context, a jobs.ParseArgs, run ingestRun) error {
	doc, stale, err := s.loadForParse(ctx, a, run)
	if err != nil {
		return err
	} else if stale {
		return s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, run.isInline())
	}
	pieces, title, pdfPages, err := s.split(ctx, doc, run.pre, s.parseProgress(ctx, a, run))
	if err != nil {
		return err
	}
	chunks := chunksOf(a, pieces)
	pages := 0 // only PDFs have pages
	if doc.ContentType == ingest.TypePDF {
		pages = pdfPages // blank pages make no chunks but still count
	}
	s.cfg.Metrics.PagesParsed.Add(float64(max(pages, 1)))
	if err := s.cfg.Store.ReplaceChunks(ctx, a.Tenant, a.DocumentID, a.Version, pages, chunks); ragqueue.IsNotFound(err) {
		return s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, run.isInline()) // deleted or replaced while we parsed
	} else if err != nil {
		return fmt.Errorf("documents: store chunks of document %s: %w", a.DocumentID, err)
	}
	if stale, err := s.recordTitle(ctx, a, &doc, title); err != nil {
		return err
	} else if stale {
		return s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, run.isInline())
	}
	return s.handOff(ctx, a, doc, chunks, pages, run)
}

// loadForParse returns the document version a parses (the inline one, or
// the current one from the store) and marks it processing. stale says it
// was deleted or replaced.
func (s *Service) loadForParse(ctx context.Context, a jobs.ParseArgs, run ingestRun) (doc ragqueue.Document, stale bool, err error) {
	if run.isInline() {
		doc = *run.inline
	} else {
		cur, ok, err := s.currentDoc(ctx, a.Tenant, a.DocumentID, a.Version, a.JobID)
		if err != nil || !ok {
			return doc, err == nil, err
		}
		doc = cur
	}
	if doc.Status != ragqueue.StatusProcessing || !run.fresh { // a fresh document is created processing
		if err := s.cfg.Store.SetDocumentStatus(ctx, a.Tenant, a.DocumentID, a.Version, ragqueue.StatusProcessing, ""); ragqueue.IsNotFound(err) {
			return doc, true, nil // deleted or replaced since we looked
		} else if err != nil {
			return doc, false, fmt.Errorf("documents: mark document %s processing: %w", a.DocumentID, err)
		}
	}
	return doc, false, nil
}

// parseProgress records the parse stage on a's job and returns what hears
// of a PDF's pages parsed; nil for an inline ingestion, whose job has no
// record yet.
func (s *Service) parseProgress(ctx context.Context, a jobs.ParseArgs, run ingestRun) func(pagesParsed int) {
	if run.isInline() {
		return nil
	}
	s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateActive), Progress: jobs.MustMarshal(ingestProgress{Stage: stageParse})})
	return func(n int) {
		s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: jobs.MustMarshal(ingestProgress{Stage: stageParse, PagesParsed: n})})
	}
}

// chunksOf is the chunks of a's document version made of pieces.
func chunksOf(a jobs.ParseArgs, pieces []ingest.Piece) []ragqueue.Chunk {
	chunks := make([]ragqueue.Chunk, len(pieces))
	for i, p := range pieces {
		chunks[i] = ragqueue.Chunk{
			ID:         ingest.ChunkID(a.Tenant, a.DocumentID, a.Version, i),
			Tenant:     a.Tenant,
			DocumentID: a.DocumentID,
			Version:    a.Version,
			Index:      i,
			Text:       p.Text,
			Page:       p.Page,
			Section:    p.Section,
		}
	}
	return chunks
}

// recordTitle gives doc the title parsing found, where it is better than
// the one doc has. An uploaded HTML or Markdown file is titled by its name
// until parsing finds its real title (<title>, the first heading); plain
// text has no title worth more than its file name, and a title the client
// gave explicitly is kept. stale says the document was deleted or replaced.
func (s *Service) recordTitle(ctx context.Context, a jobs.ParseArgs, doc *ragqueue.Document, title string) (stale bool, err error) {
	if title == "" || title == doc.Title || !strings.HasPrefix(doc.Source, "upload") ||
		(doc.ContentType != ingest.TypeHTML && doc.ContentType != ingest.TypeMarkdown && doc.ContentType != ingest.TypePDF) {
		return false, nil
	}
	if err := s.cfg.Store.SetDocumentTitle(ctx, a.Tenant, a.DocumentID, a.Version, title); ragqueue.IsNotFound(err) {
		return true, nil
	} else if err != nil {
		return false, fmt.Errorf("documents: record title of document %s: %w", a.DocumentID, err)
	}
	doc.Title = title
	return false, nil
}

// handOff passes the parsed version on to embedding: in this task for a
// small document or an inline ingestion, else as an embed task (grouped
// with other small documents' when embeddings are batched).
func (s *Service) handOff(ctx context.Context, a jobs.ParseArgs, doc ragqueue.Document, chunks []ragqueue.Chunk, pages int, run ingestRun) error {
	next := jobs.EmbedArgs{Tenant: a.Tenant, DocumentID: a.DocumentID, JobID: a.JobID, Version: a.Version}
	// A small document alone would not fill a provider's batch: its
	// embedding waits in a group for others (batch.go).
	grouped := s.cfg.BatchEmbeds && !run.isInline() && len(chunks) <= s.cfg.EmbedBatch
	if run.isInline() || !grouped && len(chunks) <= s.cfg.InlineEmbedChunks {
		// A small document fits one embedding batch: embedding it in this
		// task costs less than the queue round trip of a second one. A retry
		// of this task redoes both stages, which are idempotent. The
		// document and chunks just written are handed over, not read back.
		doc.Pages = pages
		return s.embedVersion(ctx, next, doc, chunks, run)
	}
	s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: jobs.MustMarshal(ingestProgress{
		Stage: stageEmbed, Pages: pages, PagesParsed: pages, Chunks: len(chunks),
	})})
	if grouped {
		return s.enqueueEmbed(ctx, next, asynq.Group(jobs.EmbedGroup))
	}
	return s.enqueueEmbed(ctx, next)
}
