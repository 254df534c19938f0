package queries

import (
	"context"
	"fmt"
	"strings"
	"time"

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

// cacheRun is the answer cache's part in one query job.
type cacheRun struct {
	on    bool      // look up (unless the API did) and store
	space string    // the live embedding space: entries are per space
	since time.Time // when retrieval started: a later document change wins
}

// lookupCache finds a cached answer to question (the standalone one, with
// vector its embedding in live's space) for a, when the cache is on for
// it. The returned cacheRun says how to store the answer on a miss.
func (s *Service) lookupCache(ctx context.Context, a jobs.QueryArgs, live retrieval.Target, question string, vector []float32) (cacheRun, *queryResult) {
	if s.cfg.Cache == nil || !Cacheable(!a.NoCache, a.URLs) {
		return cacheRun{}, nil
	}
	run := cacheRun{on: true, space: live.Space.Name, since: s.cfg.Cache.now()}
	if a.CacheChecked {
		return run, nil // the API looked this very question up a moment ago
	}
	hit, ok := s.cfg.Cache.lookup(ctx, a.Tenant, live, question, vector)
	if !ok {
		return run, nil
	}
	res, err := hit.result(a.JobID)
	if err != nil {
		s.cfg.Logger.WarnContext(ctx, "answer cache: decode", "tenant", a.Tenant, "job_id", a.JobID, "error", err)
		return run, nil
	}
	return run, &res
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

// answerFromCache finishes a query job with a cached answer.
func (s *Service) answerFromCache(ctx context.Context, a jobs.QueryArgs, question string, run cacheRun, res queryResult) error {
	if err := s.rememberAnswer(ctx, a, question, run, nil, &res); err != nil {
		return err
	}
	if s.cfg.Tracker.Following() {
		// Streaming clients get the text and citations as they would from
		// a generator that does not stream.
		s.publishAnswer(ctx, a, res.Answer, res.Citations)
	}
	return s.cfg.Tracker.Succeeded(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Result: jobs.MustMarshal(res)})
}
