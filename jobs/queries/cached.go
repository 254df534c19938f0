package queries

import (
	"context"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/retrieval"
)

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
