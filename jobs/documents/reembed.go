package documents

import (
	"context"
	"fmt"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// reembedPage is how many documents a re-embedding reads at a time.
const reembedPage = 100

// EmbedAllInto embeds every ready document's current chunks into target
// (a space a re-index builds), filling embedder batches across documents,
// and publishes each document there. report, unless nil, hears the
// documents and chunks done so far, at most every jobs.ProgressEvery. It returns
// the totals.
func (s *Service) EmbedAllInto(ctx context.Context, target retrieval.Target, report func(documents, chunks int)) (documents, chunks int, err error) {
	r := &reembed{s: s, target: target, report: report}
	for after := ""; ; {
		page, err := s.cfg.Store.ReadyDocuments(ctx, after, reembedPage)
		if err != nil {
			return r.documents, r.chunks, fmt.Errorf("documents: re-index: list documents: %w", err)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
		for _, d := range page {
			cs, err := s.cfg.Store.ListChunks(ctx, d.Tenant, d.ID, d.Version)
			if err != nil {
				return r.documents, r.chunks, fmt.Errorf("documents: re-index: chunks of %s: %w", d.ID, err)
			}
			for _, c := range cs {
				r.pending = append(r.pending, stagedChunk(d, c, retrieval.ContentHash(target.Embedder.Name(), c.Text), nil))
			}
			r.docs = append(r.docs, d)
			if len(r.pending) >= s.cfg.EmbedBatch {
				if err := r.flush(ctx); err != nil {
					return r.documents, r.chunks, err
				}
			}
		}
	}
	err = r.flush(ctx)
	return r.documents, r.chunks, err
}

// reembed is one EmbedAllInto run.
type reembed struct {
	s         *Service
	target    retrieval.Target
	report    func(documents, chunks int)
	pending   []retrieval.IndexedChunk
	docs      []ragqueue.Document // whose chunks are in pending, to publish after the flush
	last      time.Time
	documents int
	chunks    int
}

// flush embeds and upserts the pending chunks, then publishes their
// documents.
func (r *reembed) flush(ctx context.Context) error {
	if len(r.pending) > 0 {
		texts := make([]string, len(r.pending))
		for i, c := range r.pending {
			texts[i] = c.Text
		}
		vecs, err := r.s.embedTexts(ctx, r.target.Embedder, texts, fmt.Sprintf("%d chunks for a re-index into %s", len(texts), r.target.Space.Name))
		if err != nil {
			return err
		}
		for i := range r.pending {
			r.pending[i].Vector = vecs[i]
		}
		if err := r.target.Index.Upsert(ctx, r.pending); err != nil {
			return fmt.Errorf("documents: re-index: upsert: %w", err)
		}
		r.chunks += len(r.pending)
	}
	for _, d := range r.docs {
		if err := r.target.Index.PublishVersion(ctx, d.Tenant, d.ID, d.Version); err != nil {
			return fmt.Errorf("documents: re-index: publish %s: %w", d.ID, err)
		}
		// Deleted while it was embedded: its delete may have reached
		// the new space before these chunks did.
		if _, err := r.s.cfg.Store.GetDocument(ctx, d.Tenant, d.ID); ragqueue.IsNotFound(err) {
			if err := r.target.Index.DeleteDocument(ctx, d.Tenant, d.ID); err != nil {
				return fmt.Errorf("documents: re-index: drop deleted %s: %w", d.ID, err)
			}
		}
		r.documents++
	}
	r.pending, r.docs = r.pending[:0], r.docs[:0]
	if time.Since(r.last) >= jobs.ProgressEvery {
		r.last = time.Now()
		if r.report != nil {
			r.report(r.documents, r.chunks)
		}
	}
	return nil
}
