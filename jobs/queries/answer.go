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

// query answers a question: it embeds it, searches the tenant's index, and
// has the generator write a cited answer, which becomes the job's result.
func (s *Service) query(ctx context.Context, a jobs.QueryArgs) error {
	if s.queryCanceled(ctx, a) {
		return nil
	}
	s.cfg.Tracker.Set(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{State: jobs.StatePtr(ragqueue.StateActive)})
	question, err := s.question(ctx, a)
	if err != nil {
		return err
	}
	snap, err := s.cfg.Spaces.Snapshot(ctx)
	if err != nil {
		return err
	}
	vecs, err := retrieval.EmbedAll(ctx, snap.Embedder(), []string{question})
	if err != nil {
		return fmt.Errorf("queries: embed question: %w", err)
	}
	cache, cached := s.lookupCache(ctx, a, snap.Live, question, vecs[0])
	if cached != nil {
		return s.answerFromCache(ctx, a, question, cache, *cached)
	}
	passages, fetchErrs, err := s.retrieve(ctx, a, snap, question, vecs[0])
	if err != nil {
		return err
	}
	if err := s.allowTokens(ctx, a); err != nil {
		return err
	}
	answer, err := s.answer(ctx, a, question, passages)
	if err != nil {
		return err
	}
	res := s.newResult(a, answer, passages, fetchErrs)
	if err := s.rememberAnswer(ctx, a, question, cache, vecs[0], &res); err != nil {
		return err
	}
	return s.cfg.Tracker.Succeeded(ctx, a.Tenant, a.JobID, ragqueue.JobUpdate{Result: jobs.MustMarshal(res)}) // a client is waiting on it
}

// question is the question retrieval uses: without the URLs it names, and
// in a conversation standalone (standaloneQuestion).
func (s *Service) question(ctx context.Context, a jobs.QueryArgs) (string, error) {
	question := a.Question
	if len(a.URLs) > 0 {
		// The URLs say where to look, not what to look for.
		if q := strings.TrimSpace(urlPattern.ReplaceAllString(question, " ")); q != "" {
			question = q
		}
	}
	return s.standaloneQuestion(ctx, a, question)
}

// allowTokens refuses, for good, a question of a tenant whose daily token
// budget is spent; an unreadable budget lets the question through.
func (s *Service) allowTokens(ctx context.Context, a jobs.QueryArgs) error {
	if s.cfg.TokenBudget == nil {
		return nil
	}
	if err := s.cfg.TokenBudget.Allow(ctx, a.Tenant); ragqueue.ErrorCode(err) == ragqueue.ERATELIMIT {
		return jobs.Permanent(err)
	} else if err != nil {
		s.cfg.Logger.WarnContext(ctx, "token budget unreadable; answering anyway", "tenant", a.Tenant, "error", err)
	}
	return nil
}

// answer has the generator answer from passages, recording the time it
// took and the tokens it used (in the metrics and the tenant's budget).
func (s *Service) answer(ctx context.Context, a jobs.QueryArgs, question string, passages []retrieval.Passage) (retrieval.Answer, error) {
	started := time.Now()
	answer, err := s.generate(ctx, a, question, passages)
	if err != nil {
		return answer, fmt.Errorf("queries: generate answer: %w", err)
	}
	s.cfg.Metrics.GenerateSeconds.Observe(time.Since(started).Seconds())
	if answer.Usage != nil {
		n := answer.Usage.PromptTokens + answer.Usage.CompletionTokens
		s.cfg.Metrics.TokensUsed.Add(float64(n))
		if s.cfg.TokenBudget != nil {
			if _, err := s.cfg.TokenBudget.Add(ctx, a.Tenant, n); err != nil {
				s.cfg.Logger.WarnContext(ctx, "record tokens used", "tenant", a.Tenant, "tokens", n, "error", err)
			}
		}
	}
	return answer, nil
}
