package documents

import (
	"context"
	"errors"
	"fmt"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// embedBatch embeds the chunks of every document of the batch with as few
// embedder calls as the embedder's batch size allows, then indexes and
// publishes each document as embed would. A document deleted or replaced
// since is skipped; any other failure fails the batch, whose retry redoes
// the (idempotent) work of every document.
func (s *Service) embedBatch(ctx context.Context, b jobs.EmbedBatchArgs) error {
	snap, err := s.cfg.Spaces.Snapshot(ctx)
	if err != nil {
		return err
	}
	type item struct {
		a      jobs.EmbedArgs
		doc    ragqueue.Document
		chunks []ragqueue.Chunk
	}
	var items []item
	var texts []string
	seen := make(map[string]bool)
	space := snap.Embedder().Name()
	for _, a := range b.Docs {
		doc, chunks, ok, err := s.embedInputs(ctx, a)
		if err != nil {
			return err
		} else if !ok {
			continue
		}
		items = append(items, item{a, doc, chunks})
		for _, c := range chunks {
			if hash := retrieval.ContentHash(space, c.Text); !seen[hash] {
				seen[hash] = true
				texts = append(texts, c.Text)
			}
		}
	}
	vectors := make(map[string][]float32, len(texts))
	for start := 0; start < len(texts); start += s.cfg.BatchTexts {
		part := texts[start:min(start+s.cfg.BatchTexts, len(texts))]
		vecs, err := s.embedTexts(ctx, snap.Embedder(), part, fmt.Sprintf("a batch of %d documents", len(items)))
		if err != nil {
			return err
		}
		for i, t := range part {
			vectors[retrieval.ContentHash(space, t)] = vecs[i]
		}
	}
	var errs []error
	for _, it := range items {
		if err := s.embedVersion(ctx, it.a, it.doc, it.chunks, ingestRun{vectors: vectors}); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// embedBatchFailed records a failed batch on each of its documents.
func (s *Service) embedBatchFailed(ctx context.Context, b jobs.EmbedBatchArgs, err error) error {
	for _, a := range b.Docs {
		_ = s.embedFailed(ctx, a, err)
	}
	return err
}
