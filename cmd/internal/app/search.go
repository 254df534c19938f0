package app

import (
	"context"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// Search modes: hybrid fuses lexical and dense retrieval; lexical (BM25)
// and dense run one part alone, so that what each adds can be measured
// (cmd/eval). GET /v1/search and cmd/eval search through Search, so that
// what is measured is what the API does.
const (
	SearchHybrid  = "hybrid"
	SearchLexical = "lexical"
	SearchDense   = "dense"
)

// CheckSearchMode refuses a mode Search does not know.
func CheckSearchMode(mode string) error {
	switch mode {
	case SearchHybrid, SearchLexical, SearchDense:
		return nil
	}
	return ragqueue.Errorf(ragqueue.EINVALID, "mode must be hybrid, lexical or dense, not %q", mode)
}

// Search searches tenant's chunks for text in mode (checked by
// CheckSearchMode), best first: the text goes to the lexical part unless
// the mode is dense, and is embedded with emb for the dense part unless
// the mode is lexical.
func Search(ctx context.Context, emb retrieval.Embedder, index retrieval.Index, tenant, mode, text string, topK int) ([]retrieval.Passage, error) {
	q := retrieval.Query{Tenant: tenant, TopK: topK}
	if mode != SearchDense {
		q.Text = text
	}
	if mode != SearchLexical {
		vecs, err := emb.Embed(ctx, []string{text})
		if err != nil {
			return nil, err
		}
		q.Vector = vecs[0]
	}
	return retrieval.Search(ctx, index, q)
}
