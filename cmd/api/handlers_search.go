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
	"github.com/ragqueue/ragqueue/jobs/queries"
	"github.com/ragqueue/ragqueue/retrieval"
)

// search runs a search over the tenant's chunks, here in the API process:
// it is fast and needs no queue. mode chooses the retrieval
// (queries.Search): hybrid (the default), lexical or dense.
func (s *server) search(c *gin.Context) {
	q := strings.TrimSpace(c.Query("q"))
	if q == "" {
		s.fail(c, invalid("q is required: GET /v1/search?q=your+question"))
		return
	}
	if utf8.RuneCountInString(q) > queries.MaxQuestionRunes {
		s.fail(c, invalid("q is longer than %d characters", queries.MaxQuestionRunes))
		return
	}
	topK, err := intParam(c.Query("top_k"), 5, 1, 100, "top_k")
	if err != nil {
		s.fail(c, err)
		return
	}
	mode := c.DefaultQuery("mode", queries.ModeHybrid)
	res, err := s.queries.Search(c.Request.Context(), queries.SearchRequest{Tenant: tenant(c), Text: q, Mode: mode, TopK: topK})
	if err != nil {
		s.fail(c, err)
		return
	}
	if res.Passages == nil {
		res.Passages = []retrieval.Passage{}
	}
	c.JSON(http.StatusOK, gin.H{"results": res.Passages, "mode": mode, "space": res.Space})
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

// createQuery runs a question (queries.Check, then Ask): from the answer
// cache, or as a job. Sync waits (bounded by RAGQ_QUERY_TIMEOUT) and
// returns the answer; async returns the job id; an event-stream client
// gets the job's events.
func (s *server) createQuery(c *gin.Context) {
	var req queryRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	checked, err := s.queries.Check(ctx, queries.Question{
		Tenant: tenant(c), Text: req.Question, TopK: req.TopK, URLs: req.URLs,
		ConversationID: req.ConversationID, NoCache: req.Cache != nil && !*req.Cache,
		Mode: req.Mode, Callback: req.CallbackURL, Streaming: wantsEventStream(c),
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	asked, err := s.queries.Ask(ctx, checked)
	switch {
	case err != nil:
		s.fail(c, err)
	case asked.Cached && req.Mode == "async":
		c.JSON(http.StatusAccepted, gin.H{"job_id": asked.Job.ID, "state": asked.Job.State})
	case asked.Cached:
		c.Data(http.StatusOK, "application/json; charset=utf-8", asked.Job.Result)
	default:
		logAttr(c, "job_id", asked.Job.ID)
		s.answerJob(c, asked.Job, req.Mode)
	}
}

// answerJob answers a question a job was made for: its events as they
// come to an event-stream client (which cancels the query when it leaves
// first, unless it asked for async), 202 with the job for async, else the
// answer once the job ends (bounded by RAGQ_QUERY_TIMEOUT).
func (s *server) answerJob(c *gin.Context, job ragqueue.Job, mode string) {
	if wantsEventStream(c) {
		c.Header("X-Job-ID", job.ID)
		s.relaySSE(c, tenant(c), job.ID, "", mode != "async")
		return
	}
	if mode == "async" {
		c.JSON(http.StatusAccepted, gin.H{"job_id": job.ID, "state": job.State})
		return
	}
	ctx := c.Request.Context()
	wctx, cancel := context.WithTimeout(ctx, s.cfg.QueryTimeout)
	defer cancel()
	done, err := s.jobs.Wait(wctx, tenant(c), job.ID)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || (err != nil && wctx.Err() != nil && ctx.Err() == nil):
		s.failWith(c, ragqueue.Errorf(ragqueue.ETIMEOUT,
			"the answer was not ready within %s; poll GET /v1/jobs/%s", s.cfg.QueryTimeout, job.ID), job.ID)
	case err != nil:
		s.failWith(c, err, job.ID)
	case done.State != ragqueue.StateSucceeded:
		s.failWith(c, ragqueue.Errorf(ragqueue.EINTERNAL, "the query job %s: %s", done.State, done.Error), job.ID)
	default:
		c.Data(http.StatusOK, "application/json; charset=utf-8", done.Result)
	}
}

// getJob returns a job of the caller's tenant.
func (s *server) getJob(c *gin.Context) {
	job, err := s.jobs.Job(c.Request.Context(), tenant(c), c.Param("id"))
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
