package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hibiken/asynq"
	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/retrieval"
	"golang.org/x/sync/errgroup"
)

// parseProgress and embedProgress are the job's progress as clients see it.
type parseProgress struct {
	Stage string `json:"stage"`
}

type embedProgress struct {
	Stage          string `json:"stage"`
	Chunks         int    `json:"chunks"`
	ChunksEmbedded int    `json:"chunks_embedded"`
}

// ingestResult is an ingest job's result.
type ingestResult struct {
	DocumentID string `json:"document_id"`
	Chunks     int    `json:"chunks"`
}

// currentDoc loads the document a task is about. ok is false when there is
// nothing to do: the document was deleted, or a newer version replaced it.
func (h *handlers) currentDoc(ctx context.Context, tenant, docID string, version int) (doc ingest.Document, ok bool, err error) {
	doc, err = h.Store.GetDocument(ctx, tenant, docID)
	if ragqueue.IsNotFound(err) {
		return doc, false, nil
	} else if err != nil {
		return doc, false, fmt.Errorf("jobs: get document %s: %w", docID, err)
	}
	return doc, doc.Version == version, nil
}

// parse reads a document version's bytes, parses and chunks them, stores the
// chunks (replacing any from an earlier attempt) and enqueues the embedding.
// Running it twice stores the same chunks under the same IDs.
func (h *handlers) parse(ctx context.Context, a ParseArgs) error {
	doc, ok, err := h.currentDoc(ctx, a.Tenant, a.DocumentID, a.Version)
	if err != nil || !ok {
		return err
	}
	if err := h.Store.SetDocumentStatus(ctx, a.Tenant, a.DocumentID, a.Version, ingest.StatusProcessing, ""); ragqueue.IsNotFound(err) {
		return nil // deleted or replaced since we looked
	} else if err != nil {
		return fmt.Errorf("jobs: mark document %s processing: %w", a.DocumentID, err)
	}
	h.setJob(ctx, a.Tenant, a.JobID, JobUpdate{State: statePtr(StateActive), Progress: marshal(parseProgress{Stage: "parse"})})

	pieces, title, err := h.split(ctx, doc)
	if err != nil {
		return err
	}
	chunks := make([]ingest.Chunk, len(pieces))
	pages := 0
	for i, p := range pieces {
		chunks[i] = ingest.Chunk{
			ID:         ingest.ChunkID(a.Tenant, a.DocumentID, a.Version, i),
			Tenant:     a.Tenant,
			DocumentID: a.DocumentID,
			Version:    a.Version,
			Index:      i,
			Text:       p.Text,
			Page:       p.Page,
			Section:    p.Section,
		}
		pages = max(pages, p.Page)
	}
	if textLike(doc.ContentType) {
		pages = 0
	}
	if err := h.Store.ReplaceChunks(ctx, a.Tenant, a.DocumentID, a.Version, chunks); ragqueue.IsNotFound(err) {
		return nil // deleted or replaced while we parsed
	} else if err != nil {
		return fmt.Errorf("jobs: store chunks of document %s: %w", a.DocumentID, err)
	}
	if err := h.Store.SetDocumentCounts(ctx, a.Tenant, a.DocumentID, a.Version, pages, len(chunks)); ragqueue.IsNotFound(err) {
		return nil
	} else if err != nil {
		return fmt.Errorf("jobs: record counts of document %s: %w", a.DocumentID, err)
	}
	// An uploaded HTML or Markdown file is titled by its name until parsing
	// finds its real title (<title>, the first heading); plain text has no
	// title worth more than its file name, and a title the client gave
	// explicitly is kept.
	if title != "" && title != doc.Title && strings.HasPrefix(doc.Source, "upload") &&
		(doc.ContentType == ingest.TypeHTML || doc.ContentType == ingest.TypeMarkdown) {
		if err := h.Store.SetDocumentTitle(ctx, a.Tenant, a.DocumentID, a.Version, title); ragqueue.IsNotFound(err) {
			return nil
		} else if err != nil {
			return fmt.Errorf("jobs: record title of document %s: %w", a.DocumentID, err)
		}
	}
	h.setJob(ctx, a.Tenant, a.JobID, JobUpdate{Progress: marshal(embedProgress{Stage: "embed", Chunks: len(chunks)})})

	next := EmbedArgs{Tenant: a.Tenant, DocumentID: a.DocumentID, JobID: a.JobID, Version: a.Version}
	if len(chunks) <= h.InlineEmbedChunks {
		// A small document fits one embedding batch: embedding it in this
		// task costs less than the queue round trip of a second one. A retry
		// of this task redoes both stages, which are idempotent.
		return h.embed(ctx, next)
	}
	task, err := NewTask(next, asynq.TaskID(embedTaskID(a.DocumentID, a.Version)))
	if err != nil {
		return err
	}
	if _, err := h.Enqueuer.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("jobs: enqueue embedding of document %s: %w", a.DocumentID, err)
	}
	return nil
}

// split parses and chunks doc's bytes, returning the pieces and the title
// parsing found. Errors that say the input is unusable come back as
// rejections.
func (h *handlers) split(ctx context.Context, doc ingest.Document) ([]ingest.Piece, string, error) {
	rc, err := h.Blobs.Open(ctx, doc.BlobKey)
	if ragqueue.IsNotFound(err) {
		return nil, "", permanent(fmt.Errorf("jobs: open content of document %s: %w", doc.ID,
			ragqueue.Errorf(ragqueue.ENOTFOUND, "the document's content is missing; upload it again")))
	} else if err != nil {
		return nil, "", fmt.Errorf("jobs: open content of document %s: %w", doc.ID, err)
	}
	defer func() { _ = rc.Close() }()
	parsed, err := ingest.Parse(ctx, doc.ContentType, rc, h.MaxParseBytes)
	if err != nil {
		if isInputError(err) {
			return nil, "", rejection{fmt.Errorf("jobs: parse document %s: %w", doc.ID, err)}
		}
		return nil, "", fmt.Errorf("jobs: parse document %s: %w", doc.ID, err)
	}
	pieces, err := h.Chunker.SplitContext(ctx, doc.ContentType, parsed)
	if err != nil {
		if isInputError(err) {
			return nil, "", rejection{fmt.Errorf("jobs: chunk document %s: %w", doc.ID, err)}
		}
		return nil, "", fmt.Errorf("jobs: chunk document %s: %w", doc.ID, err)
	}
	if len(pieces) == 0 {
		return nil, "", rejection{ragqueue.Errorf(ragqueue.EINVALID, "the document contains no text")}
	}
	return pieces, parsed.Title, nil
}

// textLike reports whether documents of contentType have no pages.
func textLike(contentType string) bool {
	mediaType, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(mediaType)) {
	case ingest.TypeText, ingest.TypeMarkdown, ingest.TypeHTML:
		return true
	}
	return false
}

// embed embeds a document version's stored chunks in batches, a bounded
// number at a time, upserts them into the index, and marks the document
// ready. Upserts are keyed by chunk ID, so running it twice is harmless. If
// the document is deleted while it runs, it removes what it indexed.
func (h *handlers) embed(ctx context.Context, a EmbedArgs) error {
	doc, err := h.Store.GetDocument(ctx, a.Tenant, a.DocumentID)
	if ragqueue.IsNotFound(err) {
		// An earlier attempt may have indexed chunks before the delete.
		return h.dropIndexed(ctx, a)
	} else if err != nil {
		return fmt.Errorf("jobs: get document %s: %w", a.DocumentID, err)
	} else if doc.Version != a.Version {
		return nil // replaced by a newer version
	}
	chunks, err := h.Store.ListChunks(ctx, a.Tenant, a.DocumentID, a.Version)
	if err != nil {
		return fmt.Errorf("jobs: list chunks of document %s: %w", a.DocumentID, err)
	}
	if len(chunks) == 0 {
		if _, ok, err := h.currentDoc(ctx, a.Tenant, a.DocumentID, a.Version); err != nil || !ok {
			return err // deleted meanwhile: nothing was indexed by this attempt
		}
		return permanent(fmt.Errorf("jobs: document %s version %d has no stored chunks", a.DocumentID, a.Version))
	}
	progress := embedProgress{Stage: "embed", Chunks: len(chunks)}
	h.setJob(ctx, a.Tenant, a.JobID, JobUpdate{State: statePtr(StateActive), Progress: marshal(progress)})

	if err := h.embedChunks(ctx, a, doc, chunks, &progress); err != nil {
		return err
	}

	err = h.Store.SetDocumentStatus(ctx, a.Tenant, a.DocumentID, a.Version, ingest.StatusReady, "")
	if ragqueue.IsNotFound(err) {
		// Deleted or replaced while we worked.
		cur, gerr := h.Store.GetDocument(ctx, a.Tenant, a.DocumentID)
		switch {
		case ragqueue.IsNotFound(gerr):
			return h.dropIndexed(ctx, a)
		case gerr != nil:
			return fmt.Errorf("jobs: get document %s: %w", a.DocumentID, gerr)
		case cur.Version != a.Version:
			return nil // the newer version owns the document's index entries
		}
		return fmt.Errorf("jobs: mark document %s ready: %w", a.DocumentID, err)
	} else if err != nil {
		return fmt.Errorf("jobs: mark document %s ready: %w", a.DocumentID, err)
	}
	// Unlike progress, the outcome must be recorded; a retry redoes the
	// (idempotent) work and tries again. A job record that is gone (pruned)
	// cannot be helped by retrying.
	if err := h.Store.UpdateJob(ctx, a.Tenant, a.JobID, JobUpdate{
		State:    statePtr(StateSucceeded),
		Progress: marshal(progress),
		Result:   marshal(ingestResult{DocumentID: a.DocumentID, Chunks: len(chunks)}),
	}); ragqueue.IsNotFound(err) {
		h.Logger.WarnContext(ctx, "job record is gone; document is ready", "tenant", a.Tenant, "doc_id", a.DocumentID, "job_id", a.JobID)
	} else if err != nil {
		return fmt.Errorf("jobs: record outcome of job %s: %w", a.JobID, err)
	}
	return nil
}

// dropIndexed removes a deleted document's entries from the index.
func (h *handlers) dropIndexed(ctx context.Context, a EmbedArgs) error {
	if err := h.Index.DeleteDocument(ctx, a.Tenant, a.DocumentID); err != nil {
		return fmt.Errorf("jobs: drop index entries of deleted document %s: %w", a.DocumentID, err)
	}
	return nil
}

// embedChunks embeds and upserts chunks in batches of EmbedBatch with at most
// EmbedParallelism batches in flight, reporting progress at most once per
// batch and per progressEvery. It fills progress.ChunksEmbedded.
func (h *handlers) embedChunks(ctx context.Context, a EmbedArgs, doc ingest.Document, chunks []ingest.Chunk, progress *embedProgress) error {
	var (
		mu         sync.Mutex
		lastReport time.Time
	)
	report := func(ctx context.Context, n int) {
		mu.Lock()
		defer mu.Unlock()
		progress.ChunksEmbedded += n
		if progress.ChunksEmbedded < progress.Chunks && time.Since(lastReport) < progressEvery {
			return
		}
		lastReport = time.Now()
		h.setJob(ctx, a.Tenant, a.JobID, JobUpdate{Progress: marshal(*progress)})
	}

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(h.EmbedParallelism)
	for start := 0; start < len(chunks) && gctx.Err() == nil; start += h.EmbedBatch {
		batch := chunks[start:min(start+h.EmbedBatch, len(chunks))]
		g.Go(func() error {
			texts := make([]string, len(batch))
			for i, c := range batch {
				texts[i] = c.Text
			}
			vecs, err := h.Embedder.Embed(gctx, texts)
			if err != nil {
				return fmt.Errorf("jobs: embed chunks %d-%d of document %s: %w", start, start+len(batch)-1, a.DocumentID, err)
			} else if len(vecs) != len(batch) {
				return fmt.Errorf("jobs: embed chunks of document %s: %d vectors for %d texts", a.DocumentID, len(vecs), len(batch))
			}
			items := make([]retrieval.IndexedChunk, len(batch))
			for i, c := range batch {
				items[i] = retrieval.IndexedChunk{
					ID:         c.ID,
					Tenant:     a.Tenant,
					DocumentID: a.DocumentID,
					Index:      c.Index,
					Text:       c.Text,
					Page:       c.Page,
					Title:      doc.Title,
					Source:     doc.Source,
					Vector:     vecs[i],
				}
			}
			if err := h.Index.Upsert(gctx, items); err != nil {
				return fmt.Errorf("jobs: index chunks of document %s: %w", a.DocumentID, err)
			}
			report(gctx, len(batch))
			return nil
		})
	}
	return g.Wait()
}
