package queries

import (
	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
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

// newResult is the result of query job a answered with answer from
// passages; fetchErrs are the named pages that could not be used.
func (s *Service) newResult(a jobs.QueryArgs, answer retrieval.Answer, passages []retrieval.Passage, fetchErrs []ragqueue.URLError) queryResult {
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
		res.Generator = s.cfg.Generator.Name()
	}
	return res
}
