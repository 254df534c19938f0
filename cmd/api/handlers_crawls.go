package main

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs/crawls"
)

// crawlRequest is the body of POST /v1/crawls.
type crawlRequest struct {
	URLs          []string `json:"urls"`
	MaxDepth      *int     `json:"max_depth"`
	MaxPages      *int     `json:"max_pages"`
	AllowedHosts  []string `json:"allowed_hosts"`
	RespectRobots *bool    `json:"respect_robots"`
	Refresh       string   `json:"refresh"`
	CallbackURL   string   `json:"callback_url"`
}

// crawlResponse is a crawl as GET /v1/crawls/{id} shows it.
type crawlResponse struct {
	ID           string              `json:"id"`
	JobID        string              `json:"job_id"`
	Status       ragqueue.State      `json:"status"`
	PagesFetched int                 `json:"pages_fetched"`
	PagesFailed  int                 `json:"pages_failed"`
	PagesBlocked int                 `json:"pages_blocked"`
	Documents    []string            `json:"documents"`
	Errors       []ragqueue.URLError `json:"errors"`
	Request      ragqueue.CrawlSpec  `json:"request"`
	CreatedAt    time.Time           `json:"created_at"`
	CompletedAt  *time.Time          `json:"completed_at"`
	NextRunAt    *time.Time          `json:"next_run_at"`
}

// createCrawl records a crawl and enqueues it (crawls.Create): 202 with
// its crawl_id and job_id. Pages become documents of the caller's tenant,
// deduplicated by URL.
func (s *server) createCrawl(c *gin.Context) {
	var req crawlRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	cr, err := s.crawler.Create(c.Request.Context(), crawls.Request{
		Tenant: tenant(c), URLs: req.URLs, MaxDepth: req.MaxDepth, MaxPages: req.MaxPages,
		AllowedHosts: req.AllowedHosts, RespectRobots: req.RespectRobots, Refresh: req.Refresh,
		Callback: req.CallbackURL,
	})
	if err != nil {
		s.fail(c, err)
		return
	}
	logAttr(c, "crawl_id", cr.ID)
	logAttr(c, "job_id", cr.JobID)
	c.JSON(http.StatusAccepted, gin.H{"crawl_id": cr.ID, "job_id": cr.JobID})
}

// getCrawl returns a crawl of the caller's tenant.
func (s *server) getCrawl(c *gin.Context) {
	cr, err := s.crawler.Get(c.Request.Context(), tenant(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	if cr.Spec.AllowedHosts == nil {
		cr.Spec.AllowedHosts = []string{}
	}
	c.JSON(http.StatusOK, crawlResponse{
		ID: cr.ID, JobID: cr.JobID, Status: cr.Status,
		PagesFetched: cr.PagesFetched, PagesFailed: cr.PagesFailed, PagesBlocked: cr.PagesBlocked,
		Documents: cr.Documents, Errors: cr.Errors, Request: cr.Spec,
		CreatedAt: cr.CreatedAt, CompletedAt: cr.CompletedAt, NextRunAt: cr.NextRunAt,
	})
}
