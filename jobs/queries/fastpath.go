package queries

import (
	"context"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
)

// fastPath answers a question the tenant's answer cache can answer here,
// in the API process, without a queue round trip. The answer is still
// recorded as a succeeded query job (its job_id is in the answer), so that
// clients that poll find it. It returns cached=true with that job;
// otherwise the args of the job to enqueue (CacheChecked when the cache
// was asked and missed, so that the worker does not ask again).
//
// The cache is skipped here for questions in a conversation (the worker
// rewrites the follow-up first, then looks the standalone question up),
// for questions naming URLs (never cached: the pages are fetched when the
// question is asked), with NoCache, for a question with a callback (the
// worker's job end notifies it; the worker consults the cache too), and
// for a streaming face (its events come from the job).
func (s *Service) fastPath(ctx context.Context, c Checked) (args jobs.QueryArgs, job ragqueue.Job, cached bool) {
	q := c.q
	args = jobs.QueryArgs{
		Tenant: q.Tenant, Question: q.Text, TopK: c.topK, URLs: c.urls,
		ConversationID: q.ConversationID, NoCache: q.NoCache,
	}
	if s.cfg.Cache == nil || q.ConversationID != "" || q.Callback != "" || q.Streaming ||
		!Cacheable(!q.NoCache, c.urls) {
		return args, ragqueue.Job{}, false
	}
	snap, err := s.cfg.Spaces.Snapshot(ctx)
	if err != nil {
		return args, ragqueue.Job{}, false // the worker will say what is wrong
	}
	job, ok, err := s.cfg.Cache.Answer(ctx, q.Tenant, snap.Live, q.Text)
	switch {
	case err != nil:
		s.cfg.Logger.WarnContext(ctx, "answer cache: fast path", "tenant", q.Tenant, "error", err)
		return args, ragqueue.Job{}, false
	case !ok:
		args.CacheChecked = true
		return args, ragqueue.Job{}, false
	}
	return args, job, true
}
