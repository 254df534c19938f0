package main

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/queries"
)

// answerFromCache is the fast path of POST /v1/queries: a question the
// tenant's answer cache can answer is answered here, in the API process,
// without a queue round trip. The answer is still recorded as a succeeded
// query job (its job_id is in the answer), so that clients that poll find
// it; sync gets 200 with the answer, async 202 with the job. It returns
// answered=true when it wrote the response; otherwise the args of the job
// to enqueue.
//
// The cache is skipped here for questions in a conversation (the worker
// rewrites the follow-up first, then looks the standalone question up),
// for questions naming URLs (never cached: the pages are fetched when the
// question is asked), and with "cache": false.
func (s *server) answerFromCache(c *gin.Context, req queryRequest, topK int, urls []string) (args jobs.QueryArgs, answered bool) {
	args = jobs.QueryArgs{
		Tenant: tenant(c), Question: req.Question, TopK: topK, URLs: urls,
		ConversationID: req.ConversationID, NoCache: req.Cache != nil && !*req.Cache,
	}
	// A question with a callback goes to a worker, whose job end notifies
	// it (the worker consults the cache too).
	// A streaming client (SSE) gets its events from the job as well.
	if s.cache == nil || args.ConversationID != "" || c.GetString(ctxCallback) != "" || wantsEventStream(c) ||
		!queries.Cacheable(!args.NoCache, urls) {
		return args, false
	}
	ctx := c.Request.Context()
	snap, err := s.spaces.Snapshot(ctx)
	if err != nil {
		return args, false // the worker will say what is wrong
	}
	job, ok, err := s.cache.Answer(ctx, args.Tenant, snap.Live, req.Question)
	switch {
	case err != nil:
		s.logger.WarnContext(ctx, "answer cache: fast path", "tenant", args.Tenant, "error", err)
		return args, false
	case !ok:
		args.CacheChecked = true
		return args, false
	case req.Mode == "async":
		c.JSON(http.StatusAccepted, gin.H{"job_id": job.ID, "state": job.State})
	default:
		c.Data(http.StatusOK, "application/json; charset=utf-8", job.Result)
	}
	return args, true
}
