package documents

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Ingest stages, as clients see them in a job's progress.
const (
	stageParse = "parse"
	stageEmbed = "embed"
	stageDone  = "done"
)

// ingestProgress is an ingest job's progress as clients see it in
// GET /v1/jobs/{id}, enough to draw a progress bar: pages_parsed of pages
// while parsing (pages is 0 for formats without pages), then
// chunks_embedded of chunks while embedding.
type ingestProgress struct {
	Stage       string `json:"stage"`
	Pages       int    `json:"pages"`
	PagesParsed int    `json:"pages_parsed"`
	Chunks      int    `json:"chunks"`
	// ChunksEmbedded counts the chunks that have their vector, whether the
	// embedder made it or it was reused.
	ChunksEmbedded int `json:"chunks_embedded"`
	// ChunksReused counts, of those, the chunks whose vector was reused
	// from an earlier version (or an earlier attempt) with the same text.
	ChunksReused int `json:"chunks_reused"`
}

// ingestResult is an ingest job's result.
type ingestResult struct {
	DocumentID   string `json:"document_id"`
	Version      int    `json:"version"`
	Chunks       int    `json:"chunks"`
	ChunksReused int    `json:"chunks_reused"`
}

// currentDoc loads the document a task is about. ok is false when there is
// nothing to do: the document was deleted, or a newer version or a retry
// (another job) replaced the one the task was for.
func (s *Service) currentDoc(ctx context.Context, tenant, docID string, version int, jobID string) (doc ragqueue.Document, ok bool, err error) {
	doc, err = s.cfg.Store.GetDocument(ctx, tenant, docID)
	if ragqueue.IsNotFound(err) {
		return doc, false, nil
	} else if err != nil {
		return doc, false, fmt.Errorf("documents: get document %s: %w", docID, err)
	}
	return doc, doc.Version == version && doc.JobID == jobID, nil
}

// endJob records a job's outcome u: as an update of its record, or, with
// create, as the record itself (an inline ingestion: ingestRun.inline).
func (s *Service) endJob(ctx context.Context, tenant, jobID string, u ragqueue.JobUpdate, create bool) error {
	if !create {
		return s.cfg.Tracker.Update(ctx, tenant, jobID, u)
	}
	now := time.Now().UTC()
	j := ragqueue.Job{ID: jobID, Tenant: tenant, Type: ragqueue.KindIngest, State: *u.State, Progress: u.Progress, Result: u.Result,
		CreatedAt: now, UpdatedAt: now, CompletedAt: &now}
	if u.Error != nil {
		j.Error = *u.Error
	}
	return s.cfg.Tracker.Create(ctx, j)
}

// skipStale settles a task whose work became moot: the document was
// deleted, or a newer version or a retry took over. The task succeeds (there
// is nothing to retry), and its job, unless already finished or still the
// document's current job, is marked canceled saying why, so that a client
// polling it is not left waiting. create says that the job has no record
// yet (an inline ingestion: ingestRun.inline): it is created canceled.
func (s *Service) skipStale(ctx context.Context, tenant, docID, jobID string, version int, create bool) error {
	var reason string
	doc, err := s.cfg.Store.GetDocument(ctx, tenant, docID)
	switch {
	case ragqueue.IsNotFound(err):
		reason = "the document was deleted"
	case err != nil:
		return fmt.Errorf("documents: get document %s: %w", docID, err)
	case doc.JobID == jobID:
		return nil // the job still owns the document: not ours to cancel
	case doc.Version != version:
		reason = fmt.Sprintf("superseded by version %d of the document (job %s)", doc.Version, doc.JobID)
	default:
		reason = fmt.Sprintf("superseded by job %s, a retry of the document", doc.JobID)
	}
	canceled := ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateCanceled), Error: &reason}
	if create {
		if err := s.endJob(ctx, tenant, jobID, canceled, true); err != nil {
			s.cfg.Logger.WarnContext(ctx, "record canceled ingest job", "tenant", tenant, "job_id", jobID, "error", err)
		}
		return nil
	}
	job, err := s.cfg.Tracker.Get(ctx, tenant, jobID)
	if err != nil || job.State.Terminal() {
		return nil
	}
	s.cfg.Tracker.Set(ctx, tenant, jobID, canceled)
	return nil
}

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
// inline.
func (s *Service) parseThenEmbed(ctx context.Context, a jobs.ParseArgs, run ingestRun) error {
	var doc ragqueue.Document
	if run.isInline() {
		doc = *run.inline
	} else {
		cur, ok, err := s.currentDoc(ctx, a.Tenant, a.DocumentID, a.Version, a.JobID)
		if err != nil {
			return err
		} else if !ok {
			return s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, false)
		}
		doc = cur
	}
	if doc.Status != ragqueue.StatusProcessing || !run.fresh { // a fresh document is created processing
		if err := s.cfg.Store.SetDocumentStatus(ctx, a.Tenant, a.DocumentID, a.Version, ragqueue.StatusProcessing, ""); ragqueue.IsNotFound(err) {
			return s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, run.isInline()) // deleted or replaced since we looked
		} else if err != nil {
			return fmt.Errorf("documents: mark document %s processing: %w", a.DocumentID, err)
		}
	}
	var pdfProgress func(pagesParsed int) // none for an inline ingestion: its job has no record yet
	if !run.isInline() {
		s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateActive), Progress: jobs.MustMarshal(ingestProgress{Stage: stageParse})})
		pdfProgress = func(n int) {
			s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: jobs.MustMarshal(ingestProgress{Stage: stageParse, PagesParsed: n})})
		}
	}

	pieces, title, pdfPages, err := s.split(ctx, doc, run.pre, pdfProgress)
	if err != nil {
		return err
	}
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
	// An uploaded HTML or Markdown file is titled by its name until parsing
	// finds its real title (<title>, the first heading); plain text has no
	// title worth more than its file name, and a title the client gave
	// explicitly is kept.
	if title != "" && title != doc.Title && strings.HasPrefix(doc.Source, "upload") &&
		(doc.ContentType == ingest.TypeHTML || doc.ContentType == ingest.TypeMarkdown || doc.ContentType == ingest.TypePDF) {
		if err := s.cfg.Store.SetDocumentTitle(ctx, a.Tenant, a.DocumentID, a.Version, title); ragqueue.IsNotFound(err) {
			return s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, run.isInline())
		} else if err != nil {
			return fmt.Errorf("documents: record title of document %s: %w", a.DocumentID, err)
		}
		doc.Title = title
	}

	next := jobs.EmbedArgs{Tenant: a.Tenant, DocumentID: a.DocumentID, JobID: a.JobID, Version: a.Version}
	// A small document alone would not fill a provider's batch: its
	// embedding waits in a group for others (embed_batch.go).
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

// enqueueEmbed queues the embed task of a document version; its task ID
// makes a second enqueue of the same job (a retried parse) a no-op.
func (s *Service) enqueueEmbed(ctx context.Context, a jobs.EmbedArgs, opts ...asynq.Option) error {
	if _, err := s.cfg.Client.Enqueue(ctx, a, opts...); err != nil {
		return fmt.Errorf("documents: enqueue embedding of document %s: %w", a.DocumentID, err)
	}
	return nil
}

// split parses and chunks doc's bytes (or pre, the text already extracted
// from them), returning the pieces, the title parsing found and, for PDFs,
// the page count. Errors that say the input is unusable come back as
// rejections. pdfProgress, unless nil, hears of the pages of a PDF parsed
// so far (parsePDF).
func (s *Service) split(ctx context.Context, doc ragqueue.Document, pre *ingest.Parsed, pdfProgress func(pagesParsed int)) (pieces []ingest.Piece, title string, pages int, err error) {
	var parsed ingest.Parsed
	if pre != nil {
		parsed = *pre
	} else if parsed, err = s.parseBlob(ctx, doc, pdfProgress); err != nil {
		return nil, "", 0, err
	}
	pieces, err = s.cfg.Chunker.SplitContext(ctx, doc.ContentType, parsed)
	if err != nil {
		if isInputError(err) {
			return nil, "", 0, rejection{fmt.Errorf("documents: chunk document %s: %w", doc.ID, err)}
		}
		return nil, "", 0, fmt.Errorf("documents: chunk document %s: %w", doc.ID, err)
	}
	if len(pieces) == 0 && doc.ContentType != ingest.TypePDF {
		// A PDF without text (scanned pages) is not an error: it becomes
		// ready with no chunks and a warning (see embed).
		return nil, "", 0, rejection{ragqueue.Errorf(ragqueue.EINVALID, "the document contains no text")}
	}
	return pieces, parsed.Title, len(parsed.Sections), nil
}

// parseBlob reads and parses doc's stored bytes. An HTML page fetched from
// the web is extracted as the crawler extracts it (main content first), so
// that a retry indexes what the first attempt did. pdfProgress is parsePDF's.
func (s *Service) parseBlob(ctx context.Context, doc ragqueue.Document, pdfProgress func(pagesParsed int)) (ingest.Parsed, error) {
	rc, err := s.cfg.Blobs.Open(ctx, doc.BlobKey)
	if ragqueue.IsNotFound(err) {
		return ingest.Parsed{}, jobs.Permanent(fmt.Errorf("documents: open content of document %s: %w", doc.ID,
			ragqueue.Errorf(ragqueue.ENOTFOUND, "the document's content is missing; upload it again")))
	} else if err != nil {
		return ingest.Parsed{}, fmt.Errorf("documents: open content of document %s: %w", doc.ID, err)
	}
	defer func() { _ = rc.Close() }()
	var parsed ingest.Parsed
	switch {
	case doc.ContentType == ingest.TypePDF:
		parsed, err = s.parsePDF(ctx, rc, pdfProgress)
	case doc.ContentType == ingest.TypeHTML && web.IsWebSource(doc.Source):
		var body []byte
		if body, err = readAtMost(rc, s.cfg.MaxParseBytes); err == nil {
			parsed, err = web.ExtractHTML(ctx, body, doc.Source)
		}
	default:
		parsed, err = ingest.Parse(ctx, doc.ContentType, rc, s.cfg.MaxParseBytes)
	}
	if err != nil {
		if isInputError(err) {
			return ingest.Parsed{}, rejection{fmt.Errorf("documents: parse document %s: %w", doc.ID, err)}
		}
		return ingest.Parsed{}, fmt.Errorf("documents: parse document %s: %w", doc.ID, err)
	}
	return parsed, nil
}

// readAtMost reads r to the end, failing with a ragqueue ETOOLARGE error
// when it holds more than max bytes (max ≤ 0: no limit).
func readAtMost(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		return io.ReadAll(r)
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, ragqueue.Errorf(ragqueue.ETOOLARGE, "the document is larger than %s", ingest.FormatBytes(max))
	}
	return b, nil
}

// parsePDF runs the PDF parser on a document's bytes, telling progress
// (unless nil) of the pages parsed while it runs, at most every
// jobs.ProgressEvery.
func (s *Service) parsePDF(ctx context.Context, rc io.Reader, progress func(pagesParsed int)) (ingest.Parsed, error) {
	if s.cfg.PDF == nil {
		return ingest.Parsed{}, jobs.Permanent(errors.New("documents: PDF parsing is not configured in this worker"))
	}
	f, ok := rc.(*os.File)
	if !ok {
		// The parser hands the file to its child process as a descriptor;
		// bytes from elsewhere are spooled to a temporary file first.
		tmp, err := os.CreateTemp("", "ragqueue-pdf-*")
		if err != nil {
			return ingest.Parsed{}, fmt.Errorf("documents: spool PDF: %w", err)
		}
		defer func() { _ = tmp.Close(); _ = os.Remove(tmp.Name()) }()
		if _, err := io.Copy(tmp, rc); err != nil {
			return ingest.Parsed{}, fmt.Errorf("documents: spool PDF: %w", err)
		}
		f = tmp
	}
	var last time.Time
	return s.cfg.PDF.ParsePDFProgress(ctx, f, func(n int) {
		if progress == nil || time.Since(last) < jobs.ProgressEvery {
			return
		}
		last = time.Now()
		progress(n)
	})
}

// noTextWarning is a ready PDF's error field when none of its pages has
// text: the document is kept, but nothing in it can be searched.
const noTextWarning = "warning: no page of this PDF has a text layer (scanned images?); it is stored but nothing in it is searchable"

// embed embeds a document version's stored chunks in batches, a bounded
// number at a time, reusing the vectors of chunks whose text an earlier
// version (or attempt) already embedded. It writes them to the index
// staged, then switches the document to this version in one step: the index
// publishes these chunks and drops the older version's (which answered until
// then), and the store marks the version ready and drops the older
// version's chunk text. The previous version's bytes are deleted last.
// Upserts are keyed by chunk ID, so running it twice is harmless. If the
// document is deleted while it runs, it removes what it indexed.
func (s *Service) embed(ctx context.Context, a jobs.EmbedArgs) error {
	doc, chunks, ok, err := s.embedInputs(ctx, a)
	if err != nil || !ok {
		return err
	}
	return s.embedVersion(ctx, a, doc, chunks, ingestRun{})
}

// embedInputs loads what embedding a document version needs: the document
// and its stored chunks. ok is false when there is nothing to do (the
// document was deleted or replaced since; skipStale has settled it).
func (s *Service) embedInputs(ctx context.Context, a jobs.EmbedArgs) (doc ragqueue.Document, chunks []ragqueue.Chunk, ok bool, err error) {
	doc, err = s.cfg.Store.GetDocument(ctx, a.Tenant, a.DocumentID)
	if ragqueue.IsNotFound(err) {
		// An earlier attempt may have indexed chunks before the delete.
		if err := s.dropIndexed(ctx, a); err != nil {
			return doc, nil, false, err
		}
		return doc, nil, false, s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, false)
	} else if err != nil {
		return doc, nil, false, fmt.Errorf("documents: get document %s: %w", a.DocumentID, err)
	} else if doc.Version != a.Version || doc.JobID != a.JobID {
		return doc, nil, false, s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, false) // replaced by a newer version or a retry
	}
	chunks, err = s.cfg.Store.ListChunks(ctx, a.Tenant, a.DocumentID, a.Version)
	if err != nil {
		return doc, nil, false, fmt.Errorf("documents: list chunks of document %s: %w", a.DocumentID, err)
	}
	if len(chunks) == 0 && doc.ContentType != ingest.TypePDF {
		if _, ok, err := s.currentDoc(ctx, a.Tenant, a.DocumentID, a.Version, a.JobID); err != nil {
			return doc, nil, false, err
		} else if !ok {
			return doc, nil, false, s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, false) // nothing was indexed by this attempt
		}
		return doc, nil, false, jobs.Permanent(fmt.Errorf("documents: document %s version %d has no stored chunks", a.DocumentID, a.Version))
	}
	return doc, chunks, true, nil
}

// embedVersion is embed once doc (the current version, a.Version) and its
// stored chunks are in hand.
func (s *Service) embedVersion(ctx context.Context, a jobs.EmbedArgs, doc ragqueue.Document, chunks []ragqueue.Chunk, run ingestRun) error {
	progress := ingestProgress{Stage: stageEmbed, Pages: doc.Pages, PagesParsed: doc.Pages, Chunks: len(chunks)}
	if !run.isInline() {
		s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateActive), Progress: jobs.MustMarshal(progress)})
	}

	snap, err := s.cfg.Spaces.Snapshot(ctx)
	if err != nil {
		return err
	}
	// A document this task has just created has no version searchers could
	// be switched away from: when its chunks go in one write they are
	// searchable at once, without a staged write and a publish.
	direct := run.fresh && len(chunks) <= s.cfg.EmbedBatch
	if err := s.embedChunks(ctx, a, doc, chunks, &progress, run, snap, direct); err != nil {
		return err
	}

	if !direct {
		// The switch. Searchers see it happen in the index, in one step.
		if err := snap.Index().PublishVersion(ctx, a.Tenant, a.DocumentID, a.Version); err != nil {
			return fmt.Errorf("documents: publish version %d of document %s: %w", a.Version, a.DocumentID, err)
		}
	}
	if !run.fresh { // nothing can have cited a document this task has just created
		InvalidateCache(ctx, s.cfg.Store, s.cfg.Logger, a.Tenant, a.DocumentID) // answers citing the old version are stale
	}
	// A PDF with pages but no text layer is ready, with a warning set in
	// the same step, so no reader sees it ready without the warning.
	note := ""
	if len(chunks) == 0 {
		note = noTextWarning
	}
	replaced, err := s.cfg.Store.CompleteVersion(ctx, a.Tenant, a.DocumentID, a.Version, note)
	if ragqueue.IsNotFound(err) {
		// Deleted or replaced while we worked.
		cur, gerr := s.cfg.Store.GetDocument(ctx, a.Tenant, a.DocumentID)
		switch {
		case ragqueue.IsNotFound(gerr):
			if err := s.dropIndexed(ctx, a); err != nil {
				return err
			}
			return s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, run.isInline())
		case gerr != nil:
			return fmt.Errorf("documents: get document %s: %w", a.DocumentID, gerr)
		case cur.Version != a.Version:
			// The newer version owns the document's index entries; its own
			// switch removes what this one published.
			return s.skipStale(ctx, a.Tenant, a.DocumentID, a.JobID, a.Version, run.isInline())
		}
		return fmt.Errorf("documents: mark document %s ready: %w", a.DocumentID, err)
	} else if err != nil {
		return fmt.Errorf("documents: mark document %s ready: %w", a.DocumentID, err)
	}
	if replaced != "" && replaced != doc.BlobKey {
		// Nothing answers from the previous version any more. Failing here
		// only leaves a file behind; the document is ready either way.
		if err := s.cfg.Blobs.Delete(ctx, replaced); err != nil {
			s.cfg.Logger.WarnContext(ctx, "delete the previous version's bytes", "tenant", a.Tenant, "doc_id", a.DocumentID, "error", err)
		}
	}
	// Unlike progress, the outcome must be recorded; a retry redoes the
	// (idempotent) work and tries again. A job record that is gone (pruned)
	// cannot be helped by retrying.
	progress.Stage = stageDone
	if err := s.endJob(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{
		State:    jobs.StatePtr(ragqueue.StateSucceeded),
		Progress: jobs.MustMarshal(progress),
		Result: jobs.MustMarshal(ingestResult{
			DocumentID: a.DocumentID, Version: a.Version, Chunks: len(chunks), ChunksReused: progress.ChunksReused,
		}),
	}, run.isInline()); ragqueue.IsNotFound(err) {
		s.cfg.Logger.WarnContext(ctx, "job record is gone; document is ready", "tenant", a.Tenant, "doc_id", a.DocumentID, "job_id", a.JobID)
	} else if err != nil {
		return fmt.Errorf("documents: record outcome of job %s: %w", a.JobID, err)
	}
	return nil
}

// dropIndexed removes a deleted document's entries from the index.
func (s *Service) dropIndexed(ctx context.Context, a jobs.EmbedArgs) error {
	snap, err := s.cfg.Spaces.Snapshot(ctx)
	if err != nil {
		return err
	}
	if err := snap.Index().DeleteDocument(ctx, a.Tenant, a.DocumentID); err != nil {
		return fmt.Errorf("documents: drop index entries of deleted document %s: %w", a.DocumentID, err)
	}
	return nil
}

// embedChunks embeds and upserts chunks in batches of EmbedBatch with at
// most EmbedParallelism batches in flight, reporting progress at most once
// per batch and per jobs.ProgressEvery. It fills progress's chunk counts. The
// chunks are staged unless direct says they are searchable at once.
func (s *Service) embedChunks(ctx context.Context, a jobs.EmbedArgs, doc ragqueue.Document, chunks []ragqueue.Chunk, progress *ingestProgress, run ingestRun, snap *retrieval.Snapshot, direct bool) error {
	var (
		mu         sync.Mutex
		lastReport time.Time
	)
	report := func(ctx context.Context, done, reused int) {
		mu.Lock()
		defer mu.Unlock()
		progress.ChunksEmbedded += done
		progress.ChunksReused += reused
		if run.isInline() || progress.ChunksEmbedded < progress.Chunks && time.Since(lastReport) < jobs.ProgressEvery {
			return
		}
		lastReport = time.Now()
		s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Progress: jobs.MustMarshal(*progress)})
	}

	emb, idx := snap.Embedder(), snap.Index()
	space := emb.Name()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.cfg.EmbedParallelism)
	for start := 0; start < len(chunks) && gctx.Err() == nil; start += s.cfg.EmbedBatch {
		batch := chunks[start:min(start+s.cfg.EmbedBatch, len(chunks))]
		g.Go(func() error {
			hashes := make([]string, len(batch))
			for i, c := range batch {
				hashes[i] = retrieval.ContentHash(space, c.Text)
			}
			vecs, reused, err := s.vectorsFor(gctx, a, start, batch, hashes, run, emb, idx)
			if err != nil {
				return err
			}
			items := make([]retrieval.IndexedChunk, len(batch))
			for i, c := range batch {
				items[i] = stagedChunk(doc, c, hashes[i], vecs[i])
				items[i].Staged = !direct
			}
			if err := idx.Upsert(gctx, items); err != nil {
				return fmt.Errorf("documents: index chunks of document %s: %w", a.DocumentID, err)
			}
			s.cfg.Metrics.ChunksEmbedded.Add(float64(len(batch)))
			report(gctx, len(batch), reused)
			return nil
		})
	}
	return g.Wait()
}

// stagedChunk is chunk c of document version doc as the index stores it
// before the version's switch: staged, searchable from PublishVersion on.
func stagedChunk(doc ragqueue.Document, c ragqueue.Chunk, hash string, vector []float32) retrieval.IndexedChunk {
	return retrieval.IndexedChunk{
		ID: c.ID, Tenant: doc.Tenant, DocumentID: doc.ID, Version: doc.Version, Index: c.Index,
		Text: c.Text, Page: c.Page, Title: doc.Title, Source: doc.Source,
		Vector: vector, ContentHash: hash, Staged: true,
	}
}

// vectorsFor returns one vector per chunk of batch (which starts at chunk
// start): the one run.vectors has for its content hash, else the stored
// vector of a chunk of this document with the same content hash where the
// index has one, otherwise the embedder's, asking it once per distinct
// text. reused counts the stored vectors used: run.vectors were just made.
func (s *Service) vectorsFor(ctx context.Context, a jobs.EmbedArgs, start int, batch []ragqueue.Chunk, hashes []string, run ingestRun, emb retrieval.Embedder, idx retrieval.Index) (vecs [][]float32, reused int, err error) {
	var stored map[string][]float32
	if !run.fresh && !coversAll(run.vectors, hashes) {
		if stored, err = idx.VectorsByHash(ctx, a.Tenant, a.DocumentID, hashes); err != nil {
			return nil, 0, fmt.Errorf("documents: look up vectors of document %s: %w", a.DocumentID, err)
		}
	}
	dim := emb.Dim()
	vecs = make([][]float32, len(batch))
	var texts []string
	slot := make(map[string]int) // content hash → position in texts
	for i, hash := range hashes {
		if v, ok := run.vectors[hash]; ok && len(v) == dim {
			vecs[i] = v
			continue
		}
		if v, ok := stored[hash]; ok && len(v) == dim {
			vecs[i] = v
			reused++
			continue
		}
		if _, ok := slot[hash]; !ok {
			slot[hash] = len(texts)
			texts = append(texts, batch[i].Text)
		}
	}
	if len(texts) == 0 {
		return vecs, reused, nil
	}
	out, err := s.embedTexts(ctx, emb, texts, fmt.Sprintf("chunks %d-%d of document %s", start, start+len(batch)-1, a.DocumentID))
	if err != nil {
		return nil, 0, err
	}
	for i, hash := range hashes {
		if vecs[i] == nil {
			vecs[i] = out[slot[hash]]
		}
	}
	return vecs, reused, nil
}

// embedTexts embeds texts for an ingest or a re-index, recording the
// call's duration; what names the texts in errors. When the provider
// refuses the request itself (EINVALID: a bad key, an unknown model)
// retrying cannot help, the operator must fix the configuration: the error
// is jobs.Permanent (a document fails, and can be retried; a re-index fails).
func (s *Service) embedTexts(ctx context.Context, emb retrieval.Embedder, texts []string, what string) ([][]float32, error) {
	started := time.Now()
	vecs, err := retrieval.EmbedAll(ctx, emb, texts)
	s.cfg.Metrics.EmbedSeconds.Observe(time.Since(started).Seconds())
	if err != nil {
		err = fmt.Errorf("documents: embed %s: %w", what, err)
		if ragqueue.ErrorCode(err) == ragqueue.EINVALID {
			return nil, jobs.Permanent(err)
		}
		return nil, err
	}
	return vecs, nil
}

// coversAll reports whether vectors holds every hash.
func coversAll(vectors map[string][]float32, hashes []string) bool {
	if vectors == nil {
		return false
	}
	for _, h := range hashes {
		if _, ok := vectors[h]; !ok {
			return false
		}
	}
	return true
}
