package documents

import (
	"context"
	"fmt"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest"
	"github.com/ragqueue/ragqueue/jobs"
)

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
