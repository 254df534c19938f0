package jobs

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// queryResult is a query job's result.
type queryResult struct {
	Answer    string              `json:"answer"`
	Citations []ragqueue.Citation `json:"citations"`
	Generator string              `json:"generator"`
	JobID     string              `json:"job_id"`
	Passages  []retrieval.Passage `json:"passages"`
	// FetchErrors lists the URLs named in the question that could not be
	// fetched or indexed, and why; the answer comes from the rest.
	FetchErrors []ragqueue.URLError `json:"fetch_errors,omitempty"`
	// Cache says where the answer came from: "exact" or "semantic" (the
	// answer cache), "miss" (answered now); absent when the cache was off.
	Cache string `json:"cache,omitempty"`
	// ConversationID and StandaloneQuestion are set for a question asked in
	// a conversation: the question as retrieval saw it.
	ConversationID     string `json:"conversation_id,omitempty"`
	StandaloneQuestion string `json:"standalone_question,omitempty"`
	// Usage is what the model reported using (prompt and completion
	// tokens); absent for generators without a model.
	Usage *retrieval.Usage `json:"usage,omitempty"`
}

// urlPattern finds http(s) URLs written in a question.
var urlPattern = regexp.MustCompile(`(?i)https?://[^\s<>"'()\[\]{}]+`)

// query answers a question: it embeds it, searches the tenant's index, and
// has the generator write a cited answer, which becomes the job's result.
func (h *handlers) query(ctx context.Context, a QueryArgs) error {
	if h.queryCanceled(ctx, a) {
		return nil
	}
	h.setJob(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{State: statePtr(ragqueue.StateActive)})
	question := a.Question
	if len(a.URLs) > 0 {
		// The URLs say where to look, not what to look for.
		if q := strings.TrimSpace(urlPattern.ReplaceAllString(question, " ")); q != "" {
			question = q
		}
	}
	question, err := h.standaloneQuestion(ctx, a, question)
	if err != nil {
		return err
	}
	snap, err := h.Spaces.Snapshot(ctx)
	if err != nil {
		return err
	}
	vecs, err := embedAll(ctx, snap.Embedder(), []string{question})
	if err != nil {
		return fmt.Errorf("jobs: embed question: %w", err)
	}
	cache, cached := h.lookupCache(ctx, a, snap.Live, question, vecs[0])
	if cached != nil {
		return h.answerFromCache(ctx, a, question, cache, *cached)
	}
	topK := a.TopK
	if topK <= 0 {
		topK = defaultTopK
	}
	docIDs, fetchErrs, err := h.fetchURLs(ctx, a)
	if err != nil {
		return err
	}
	passages, err := retrieval.Search(ctx, snap.Live.Index, retrieval.Query{Tenant: a.Tenant, Text: question, Vector: vecs[0], TopK: topK})
	if err != nil {
		return fmt.Errorf("jobs: search: %w", err)
	}
	if len(docIDs) > 0 {
		// The pages the user named come first, then the rest of the tenant's.
		named, err := retrieval.Search(ctx, snap.Live.Index, retrieval.Query{Tenant: a.Tenant, Text: question, Vector: vecs[0], TopK: topK, DocumentIDs: docIDs})
		if err != nil {
			return fmt.Errorf("jobs: search named pages: %w", err)
		}
		passages = prependPassages(named, passages, topK)
	}
	if h.TokenBudget != nil {
		if err := h.TokenBudget.Allow(ctx, a.Tenant); ragqueue.ErrorCode(err) == ragqueue.ERATELIMIT {
			return permanent(err)
		} else if err != nil {
			h.Logger.WarnContext(ctx, "token budget unreadable; answering anyway", "tenant", a.Tenant, "error", err)
		}
	}
	started := time.Now()
	answer, err := h.generate(ctx, a, question, passages)
	if err != nil {
		return fmt.Errorf("jobs: generate answer: %w", err)
	}
	h.Metrics.GenerateSeconds.Observe(time.Since(started).Seconds())
	if answer.Usage != nil {
		n := answer.Usage.PromptTokens + answer.Usage.CompletionTokens
		h.Metrics.TokensUsed.Add(float64(n))
		if h.TokenBudget != nil {
			if _, err := h.TokenBudget.Add(ctx, a.Tenant, n); err != nil {
				h.Logger.WarnContext(ctx, "record tokens used", "tenant", a.Tenant, "tokens", n, "error", err)
			}
		}
	}
	res := queryResult{
		Answer:    answer.Text,
		Citations: answer.Citations,
		Generator: answer.Generator,
		JobID:     a.JobID,
		Passages:  passages,
		Usage:     answer.Usage,

		FetchErrors: fetchErrs,
	}
	if res.Citations == nil {
		res.Citations = []ragqueue.Citation{}
	}
	if res.Passages == nil {
		res.Passages = []retrieval.Passage{}
	}
	if res.Generator == "" {
		res.Generator = h.Generator.Name()
	}
	if err := h.rememberAnswer(ctx, a, question, cache, vecs[0], &res); err != nil {
		return err
	}
	return h.jobSucceeded(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Result: marshal(res)}) // a client is waiting on it
}

// fetchURLs fetches the pages a question names (depth 0, through the
// guarded Fetcher) and indexes them under the tenant inside this job, so
// that the answer can cite them. A URL that cannot be fetched or indexed is
// reported, not fatal.
func (h *handlers) fetchURLs(ctx context.Context, a QueryArgs) (docIDs []string, fetchErrs []ragqueue.URLError, err error) {
	urls := a.URLs
	if len(urls) > h.QueryMaxURLs {
		urls = urls[:h.QueryMaxURLs]
	}
	for _, u := range urls {
		if h.Fetcher == nil {
			fetchErrs = append(fetchErrs, ragqueue.URLError{URL: u, Error: "fetching web pages is not configured on this worker"})
			continue
		}
		page, ferr := h.Fetcher.Fetch(ctx, u)
		h.countFetch(ferr)
		if ferr != nil {
			if ctx.Err() != nil {
				return nil, nil, fmt.Errorf("jobs: fetch %s: %w", u, ctx.Err())
			}
			fetchErrs = append(fetchErrs, ragqueue.URLError{URL: u, Error: ragqueue.ErrorMessage(ferr)})
			continue
		}
		doc, outcome, serr := h.storePage(ctx, a.Tenant, page)
		if serr != nil {
			return nil, nil, serr
		}
		if outcome == pageCreated || outcome == pageUpdated {
			if ierr := h.ingestNow(ctx, doc, page, outcome == pageCreated); ierr != nil {
				if ctx.Err() != nil {
					return nil, nil, fmt.Errorf("jobs: ingest %s: %w", u, ctx.Err())
				}
				fetchErrs = append(fetchErrs, ragqueue.URLError{URL: u, Error: "could not index the page: " + failureMessage(ierr)})
				continue
			}
		}
		docIDs = append(docIDs, doc.ID)
	}
	return docIDs, fetchErrs, nil
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
