package main

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/cmd/internal/app"
	"github.com/ragqueue/ragqueue/retrieval"
)

// maxQuestionRunes bounds a search or question.
const maxQuestionRunes = 4000

// search runs a search over the tenant's chunks, here in the API process:
// it is fast and needs no queue. mode chooses the retrieval (app.Search):
// hybrid (the default), lexical or dense.
func (s *server) search(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	if q == "" {
		s.fail(c, invalid("q is required: GET /v1/search?q=your+question"))
		return
	}
	if utf8.RuneCountInString(q) > maxQuestionRunes {
		s.fail(c, invalid("q is longer than %d characters", maxQuestionRunes))
		return
	}
	topK, err := intParam(c.Query("top_k"), 5, 1, 100, "top_k")
	if err != nil {
		s.fail(c, err)
		return
	}
	mode := c.DefaultQuery("mode", app.SearchHybrid)
	if err := app.CheckSearchMode(mode); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	snap, err := s.spaces.Snapshot(ctx)
	if err != nil {
		s.fail(c, unavailable("the search index", err))
		return
	}
	passages, err := app.Search(ctx, snap.Embedder(), snap.Live.Index, tenant(c), mode, q, topK)
	if err != nil {
		s.fail(c, err)
		return
	}
	if passages == nil {
		passages = []retrieval.Passage{}
	}
	c.JSON(http.StatusOK, gin.H{"results": passages, "mode": mode, "space": snap.Live.Space.Name})
}

// reindexRequest is the body of POST /v1/admin/reindex.
type reindexRequest struct {
	Embedder string `json:"embedder"`
}

// reindex starts building the embedding space of another embedder (or the
// configured one) from the stored chunks; searches keep using the live
// space until the new one is complete.
func (s *server) reindex(c *gin.Context) {
	var req reindexRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	if req.Embedder == "" {
		req.Embedder = s.cfg.Embedder // as Reindex does, for the response
	}
	job, err := s.reindexer.Reindex(c.Request.Context(), tenant(c), req.Embedder)
	if err != nil {
		s.fail(c, err)
		return
	}
	logAttr(c, "job_id", job.ID)
	c.JSON(http.StatusAccepted, gin.H{"job_id": job.ID, "embedder": req.Embedder})
}

// queryRequest is the body of POST /v1/queries.
type queryRequest struct {
	Question string `json:"question"`
	TopK     *int   `json:"top_k"`
	Mode     string `json:"mode"`
	// URLs are pages to fetch and answer from (with any written in the question).
	URLs []string `json:"urls"`
	// ConversationID keeps the question in a conversation (see
	// handlers_conversations.go); Cache false turns the answer cache off.
	ConversationID string `json:"conversation_id"`
	Cache          *bool  `json:"cache"`
	// CallbackURL receives the finished job (callbacks.go).
	CallbackURL string `json:"callback_url"`
}

// createQuery runs a question as a job. Sync waits (bounded by
// RAGQ_QUERY_TIMEOUT) and returns the answer; async returns the job id.
func (s *server) createQuery(c *gin.Context) {
	var req queryRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	topK, urls, err := s.checkQuery(&req)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := checkConversationID(req.ConversationID); err != nil {
		s.fail(c, err)
		return
	}
	if req.CallbackURL != "" { // checked by checkQuery
		c.Set(ctxCallback, req.CallbackURL)
	}
	ctx := c.Request.Context()
	if err := s.checkBudget(ctx, tenant(c)); err != nil {
		s.fail(c, err)
		return
	}
	args, answered := s.answerFromCache(c, req, topK, urls)
	if answered {
		return
	}
	job, err := s.queries.Enqueue(ctx, args, enqueueOpts(c)...)
	if err != nil {
		s.fail(c, unavailable("the job queue", err))
		return
	}
	logAttr(c, "job_id", job.ID)
	if wantsEventStream(c) {
		// Tokens as they are written; a client that leaves before the end
		// cancels the query, unless it asked for async.
		c.Header("X-Job-ID", job.ID)
		s.relaySSE(c, tenant(c), job.ID, "", req.Mode != "async")
		return
	}
	if req.Mode == "async" {
		c.JSON(http.StatusAccepted, gin.H{"job_id": job.ID, "state": job.State})
		return
	}
	wctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	done, err := s.queue.Wait(wctx, tenant(c), job.ID)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (err != nil && wctx.Err() != nil && ctx.Err() == nil):
		s.failWith(c, ragqueue.Errorf(ragqueue.ETIMEOUT,
			"the answer was not ready within %s; poll GET /v1/jobs/%s", s.cfg.QueryTimeout, job.ID), job.ID)
		return
	case err != nil:
		s.failWith(c, err, job.ID)
		return
	case done.State != ragqueue.StateSucceeded:
		s.failWith(c, ragqueue.Errorf(ragqueue.EINTERNAL, "the query job %s: %s", done.State, done.Error), job.ID)
		return
	}
	c.Data(http.StatusOK, "application/json; charset=utf-8", done.Result)
}

// checkQuery validates a question (trimming it), its mode, its top_k
// (default 5) and its URLs (those given and those written in the question).
func (s *server) checkQuery(req *queryRequest) (topK int, urls []string, err error) {
	req.Question = strings.TrimSpace(req.Question)
	switch {
	case req.Question == "":
		return 0, nil, invalid("question is required")
	case utf8.RuneCountInString(req.Question) > maxQuestionRunes:
		return 0, nil, invalid("question is longer than %d characters", maxQuestionRunes)
	case req.Mode != "" && req.Mode != "sync" && req.Mode != "async":
		return 0, nil, invalid("mode must be \"sync\" or \"async\"")
	}
	topK = 5
	if req.TopK != nil {
		if *req.TopK < 1 || *req.TopK > 50 {
			return 0, nil, invalid("top_k must be from 1 to 50")
		}
		topK = *req.TopK
	}
	if urls, err = questionURLs(req.Question, req.URLs, s.cfg.QueryMaxURLs); err != nil {
		return 0, nil, err
	}
	req.CallbackURL, err = s.checkCallback(req.CallbackURL)
	return topK, urls, err
}

// getJob returns a job of the caller's tenant.
func (s *server) getJob(c *gin.Context) {
	job, err := s.jobs.GetJob(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, job)
}

// intParam parses an optional integer query parameter within [lo, hi].
func intParam(v string, def, lo, hi int, name string) (int, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, invalid("%s must be a whole number from %d to %d", name, lo, hi)
	}
	return n, nil
}

// checkBudget refuses a question of tenant, before a job is made, when the
// tenant's tokens for the day are spent (the worker checks again before
// each model call). A budget that cannot be read does not refuse.
func (s *server) checkBudget(ctx context.Context, tenant string) error {
	if s.budget == nil {
		return nil
	}
	if err := s.budget.Allow(ctx, tenant); ragqueue.ErrorCode(err) == ragqueue.ERATELIMIT {
		return err
	}
	return nil
}
