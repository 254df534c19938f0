package jobs

import (
	"context"
	"fmt"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/retrieval"
)

// queryResult is a query job's result.
type queryResult struct {
	Answer    string               `json:"answer"`
	Citations []retrieval.Citation `json:"citations"`
	Generator string               `json:"generator"`
	JobID     string               `json:"job_id"`
	Passages  []retrieval.Passage  `json:"passages"`
}

// query answers a question: it embeds it, searches the tenant's index, and
// has the generator write a cited answer, which becomes the job's result.
func (h *handlers) query(ctx context.Context, a QueryArgs) error {
	h.setJob(ctx, a.Tenant, a.JobID, JobUpdate{State: statePtr(StateActive)})
	vecs, err := h.Embedder.Embed(ctx, []string{a.Question})
	if err != nil {
		return fmt.Errorf("jobs: embed question: %w", err)
	} else if len(vecs) != 1 {
		return fmt.Errorf("jobs: embed question: %d vectors for 1 text", len(vecs))
	}
	topK := a.TopK
	if topK <= 0 {
		topK = defaultTopK
	}
	passages, err := h.Index.Search(ctx, retrieval.Query{Tenant: a.Tenant, Text: a.Question, Vector: vecs[0], TopK: topK})
	if err != nil {
		return fmt.Errorf("jobs: search: %w", err)
	}
	answer, err := h.Generator.Generate(ctx, a.Question, passages)
	if err != nil {
		return fmt.Errorf("jobs: generate answer: %w", err)
	}
	res := queryResult{
		Answer:    answer.Text,
		Citations: answer.Citations,
		Generator: answer.Generator,
		JobID:     a.JobID,
		Passages:  passages,
	}
	if res.Citations == nil {
		res.Citations = []retrieval.Citation{}
	}
	if res.Passages == nil {
		res.Passages = []retrieval.Passage{}
	}
	if res.Generator == "" {
		res.Generator = h.Generator.Name()
	}
	// Unlike progress, the outcome must be recorded: a client is waiting on it.
	// A job record that is gone (pruned) cannot be helped by retrying.
	err = h.Store.UpdateJob(ctx, a.Tenant, a.JobID, JobUpdate{State: statePtr(StateSucceeded), Result: marshal(res)})
	if err != nil && !ragqueue.IsNotFound(err) {
		return fmt.Errorf("jobs: record answer of job %s: %w", a.JobID, err)
	}
	return nil
}
