package main

import (
	"net/http"
	"strings"
	"time"

	"github.com/ragqueue/ragqueue"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue/ingest/web"
)

// maxCrawlSeeds bounds the urls of one crawl request.
const maxCrawlSeeds = 100

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

// createCrawl records a crawl and enqueues it: 202 with its crawl_id and
// job_id. Pages become documents of the caller's tenant, deduplicated by URL.
func (s *server) createCrawl(c *gin.Context) {
	var req crawlRequest
	if err := decodeJSON(c, &req); err != nil {
		s.fail(c, err)
		return
	}
	spec, err := s.crawlSpec(req)
	if err != nil {
		s.fail(c, err)
		return
	}
	cr := ragqueue.Crawl{ID: uuid.NewString(), JobID: uuid.NewString(), Tenant: tenant(c), Status: ragqueue.StateQueued, Spec: spec}
	if err := s.setCallback(c, req.CallbackURL); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.crawler.Enqueue(c.Request.Context(), cr, enqueueOpts(c)...); err != nil {
		s.fail(c, unavailable("the job queue", err))
		return
	}
	logAttr(c, "crawl_id", cr.ID)
	logAttr(c, "job_id", cr.JobID)
	c.JSON(http.StatusAccepted, gin.H{"crawl_id": cr.ID, "job_id": cr.JobID})
}

// crawlSpec validates a crawl request against the configured caps.
func (s *server) crawlSpec(req crawlRequest) (ragqueue.CrawlSpec, error) {
	spec := ragqueue.CrawlSpec{MaxDepth: 1, MaxPages: min(100, s.cfg.CrawlMaxPages), RespectRobots: true}
	if len(req.URLs) == 0 {
		return spec, invalid(`urls is required: the pages to start crawling from, e.g. {"urls":["https://example.com/docs/"]}`)
	}
	if len(req.URLs) > maxCrawlSeeds {
		return spec, invalid("urls has %d entries; at most %d are allowed", len(req.URLs), maxCrawlSeeds)
	}
	for _, u := range req.URLs {
		norm, err := web.NormalizeURL(u)
		if err != nil {
			return spec, invalid("urls: %q is not an absolute http or https URL", u)
		}
		spec.URLs = append(spec.URLs, norm)
	}
	if req.MaxDepth != nil {
		if *req.MaxDepth < 0 || *req.MaxDepth > s.cfg.CrawlMaxDepth {
			return spec, invalid("max_depth must be from 0 to %d (the cap set by RAGQ_CRAWL_MAX_DEPTH)", s.cfg.CrawlMaxDepth)
		}
		spec.MaxDepth = *req.MaxDepth
	}
	spec.MaxDepth = min(spec.MaxDepth, s.cfg.CrawlMaxDepth)
	if req.Refresh != "" {
		d, err := time.ParseDuration(req.Refresh)
		if err != nil || d < s.cfg.CrawlMinRefresh {
			return spec, invalid("refresh must be a duration such as \"24h\" of at least %s (RAGQ_CRAWL_MIN_REFRESH)", s.cfg.CrawlMinRefresh)
		}
		spec.Refresh = d.String()
	}
	if req.MaxPages != nil {
		if *req.MaxPages < 1 || *req.MaxPages > s.cfg.CrawlMaxPages {
			return spec, invalid("max_pages must be from 1 to %d (the cap set by RAGQ_CRAWL_MAX_PAGES)", s.cfg.CrawlMaxPages)
		}
		spec.MaxPages = *req.MaxPages
	}
	for _, h := range req.AllowedHosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if h == "" || strings.ContainsAny(h, "/:@ ") {
			return spec, invalid("allowed_hosts: %q is not a host name (give names like docs.example.com, without scheme or port)", h)
		}
		spec.AllowedHosts = append(spec.AllowedHosts, h)
	}
	if req.RespectRobots != nil {
		spec.RespectRobots = *req.RespectRobots
	}
	return spec, nil
}

// getCrawl returns a crawl of the caller's tenant.
func (s *server) getCrawl(c *gin.Context) {
	cr, err := s.crawls.GetCrawl(c.Request.Context(), tenant(c), c.Param("id"))
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
