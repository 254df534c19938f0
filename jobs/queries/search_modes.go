package queries

import (
	"context"
	"fmt"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Search modes: hybrid fuses lexical and dense retrieval; lexical (BM25)
// and dense run one part alone, so that what each adds can be measured
// (cmd/eval). GET /v1/search, cmd/eval and the query task all search
// through Search, so that what is measured is what the API does.
const (
	ModeHybrid  = "hybrid"
	ModeLexical = "lexical"
	ModeDense   = "dense"
)

// CheckMode refuses a mode Search does not know.
func CheckMode(mode string) error {
	switch mode {
	case ModeHybrid, ModeLexical, ModeDense:
		return nil
	}
	return ragqueue.Errorf(ragqueue.EINVALID, "mode must be hybrid, lexical or dense, not %q", mode)
}

// SearchRequest is one search of a tenant's chunks.
type SearchRequest struct {
	Tenant string
	// Text is what is searched for.
	Text string
	// Mode is ModeHybrid, ModeLexical or ModeDense (checked by CheckMode).
	Mode string
	// TopK is how many passages are wanted (retrieval.SearchSizes).
	TopK int
	// DocumentIDs, when set, limits the search to those documents.
	DocumentIDs []string
}

// SearchResult is what a search found, best first, and the embedding
// space that answered it.
type SearchResult struct {
	Passages []retrieval.Passage
	Space    string
}

// Search searches the live embedding space for r: the one search behind
// GET /v1/search, cmd/eval and the query task. An unknown mode is an
// EINVALID error; an embedding space that cannot be read is EUNAVAILABLE.
func (s *Service) Search(ctx context.Context, r SearchRequest) (SearchResult, error) {
	if err := CheckMode(r.Mode); err != nil {
		return SearchResult{}, err
	}
	snap, err := s.cfg.Spaces.Snapshot(ctx)
	if err != nil {
		return SearchResult{}, jobs.Unavailable("the search index", fmt.Errorf("queries: search: %w", err))
	}
	passages, err := search(ctx, snap.Embedder(), snap.Live.Index, r, nil)
	if err != nil {
		return SearchResult{}, err
	}
	return SearchResult{Passages: passages, Space: snap.Live.Space.Name}, nil
}

// search runs r on index, best first: the text goes to the lexical part
// unless the mode is dense, and its embedding (vector, or else embedded
// with emb) to the dense part unless the mode is lexical.
func search(ctx context.Context, emb retrieval.Embedder, index retrieval.Index, r SearchRequest, vector []float32) ([]retrieval.Passage, error) {
	q := retrieval.Query{Tenant: r.Tenant, TopK: r.TopK, DocumentIDs: r.DocumentIDs}
	if r.Mode != ModeDense {
		q.Text = r.Text
	}
	if r.Mode != ModeLexical {
		if vector == nil {
			vecs, err := retrieval.EmbedAll(ctx, emb, []string{r.Text})
			if err != nil {
				return nil, fmt.Errorf("queries: embed the search text: %w", err)
			}
			vector = vecs[0]
		}
		q.Vector = vector
	}
	return retrieval.Search(ctx, index, q)
}
