package queries

import (
	"context"
	"fmt"
	"strings"

	"github.com/ragqueue/ragqueue"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

// maxHistoryTurns is how many earlier turns a follow-up is rewritten from.
const maxHistoryTurns = 3

// standaloneQuestion returns the question that retrieval uses for a: in a
// conversation, a follow-up rewritten from the recent turns, by the
// generator when it is a retrieval.Rewriter (falling back to the rule when
// it fails), by retrieval.RewriteFollowUp otherwise.
func (s *Service) standaloneQuestion(ctx context.Context, a jobs.QueryArgs, question string) (string, error) {
	if a.ConversationID == "" {
		return question, nil
	}
	turns, err := s.cfg.Conversations.RecentTurns(ctx, a.Tenant, a.ConversationID, maxHistoryTurns+1)
	if err != nil {
		return "", fmt.Errorf("queries: history of conversation %s: %w", a.ConversationID, err)
	}
	history := make([]retrieval.ConversationTurn, 0, len(turns))
	for _, t := range turns {
		if t.JobID == a.JobID {
			continue // this job's own turn, recorded by an earlier attempt
		}
		history = append(history, retrieval.ConversationTurn{Question: t.Question, Standalone: t.Standalone, Answer: t.Answer})
	}
	if len(history) > maxHistoryTurns {
		history = history[len(history)-maxHistoryTurns:]
	}
	if len(history) == 0 {
		return question, nil
	}
	if rw, ok := s.cfg.Generator.(retrieval.Rewriter); ok {
		rewritten, err := rw.Rewrite(ctx, history, question)
		if err == nil && strings.TrimSpace(rewritten) != "" {
			return strings.TrimSpace(rewritten), nil
		}
		if ctx.Err() != nil {
			return "", fmt.Errorf("queries: rewrite follow-up: %w", ctx.Err())
		}
		s.cfg.Logger.WarnContext(ctx, "rewriting a follow-up with the model failed; using the rule",
			"tenant", a.Tenant, "job_id", a.JobID, "error", err)
	}
	return retrieval.RewriteFollowUp(history, question), nil
}

// rememberAnswer records what a query job answered beyond its result: a
// cache entry for a fresh answer, and the conversation turn. It fills in
// res's cache and conversation fields.
func (s *Service) rememberAnswer(ctx context.Context, a jobs.QueryArgs, question string, run cacheRun, vector []float32, res *queryResult) error {
	if run.on && res.Cache == "" {
		res.Cache = CacheMiss
		s.cfg.Cache.put(ctx, a.Tenant, run.space, question, vector, *res, run.since)
	}
	if a.ConversationID == "" {
		return nil
	}
	res.ConversationID, res.StandaloneQuestion = a.ConversationID, question
	_, err := s.cfg.Conversations.AddTurn(ctx, ragqueue.Turn{
		ConversationID: a.ConversationID, Tenant: a.Tenant, Question: a.Question, Standalone: question,
		Answer: res.Answer, Citations: res.Citations, JobID: a.JobID,
	})
	if err != nil {
		return fmt.Errorf("queries: record turn of conversation %s: %w", a.ConversationID, err)
	}
	return nil
}
