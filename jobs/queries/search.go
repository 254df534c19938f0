package queries

import (
	"context"
	"fmt"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// retrieve fetches the pages a names and searches the live space for
// question (vector its embedding) as Search does in hybrid mode: the named
// pages' passages first, then the rest of the tenant's, up to a's top_k.
// fetchErrs says which named pages could not be used.
func (s *Service) retrieve(ctx context.Context, a jobs.QueryArgs, snap *retrieval.Snapshot, question string, vector []float32) (passages []retrieval.Passage, fetchErrs []ragqueue.URLError, err error) {
	topK := a.TopK
	if topK <= 0 {
		topK = defaultTopK
	}
	docIDs, fetchErrs, err := s.fetchURLs(ctx, a)
	if err != nil {
		return nil, nil, err
	}
	r := SearchRequest{Tenant: a.Tenant, Text: question, Mode: ModeHybrid, TopK: topK}
	passages, err = search(ctx, snap.Embedder(), snap.Live.Index, r, vector)
	if err != nil {
		return nil, nil, fmt.Errorf("queries: search: %w", err)
	}
	if len(docIDs) > 0 {
		// The pages the user named come first, then the rest of the tenant's.
		r.DocumentIDs = docIDs
		named, err := search(ctx, snap.Embedder(), snap.Live.Index, r, vector)
		if err != nil {
			return nil, nil, fmt.Errorf("queries: search named pages: %w", err)
		}
		passages = prependPassages(named, passages, topK)
	}
	return passages, fetchErrs, nil
}

// prependPassages puts first ahead of rest, without duplicates, up to topK
// (never fewer than all of first).
func prependPassages(first, rest []retrieval.Passage, topK int) []retrieval.Passage {
	out := make([]retrieval.Passage, 0, max(topK, len(first)))
	seen := make(map[string]bool)
	for _, p := range first {
		seen[p.ChunkID] = true
		out = append(out, p)
	}
	for _, p := range rest {
		if len(out) >= max(topK, len(first)) {
			break
		}
		if !seen[p.ChunkID] {
			out = append(out, p)
		}
	}
	return out
}
