package crawls

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/ingest/web"
	"github.com/ragqueue/ragqueue/jobs"
)

// MaxSeeds bounds the URLs of one crawl request.
const MaxSeeds = 100

// Limits are the operator's caps on what a crawl may ask for
// (RAGQ_CRAWL_MAX_PAGES, RAGQ_CRAWL_MAX_DEPTH, RAGQ_CRAWL_MIN_REFRESH).
type Limits struct {
	MaxPages   int
	MaxDepth   int
	MinRefresh time.Duration
}

// Request is a crawl as a client asks for it (POST /v1/crawls). Create
// checks it; nil pointers take the defaults.
type Request struct {
	Tenant string
	// URLs are the pages to start from (1 to MaxSeeds absolute http(s) URLs).
	URLs []string
	// MaxDepth is how many links deep to follow: default 1, at most
	// Limits.MaxDepth.
	MaxDepth *int
	// MaxPages bounds the pages fetched: default min(100, Limits.MaxPages).
	MaxPages *int
	// AllowedHosts are the host names links may lead to, besides the seeds'.
	AllowedHosts []string
	// RespectRobots obeys robots.txt; default true.
	RespectRobots *bool
	// Refresh is how often to crawl again ("": once), at least
	// Limits.MinRefresh.
	Refresh string
	// Callback is the URL notified when the job ends ("": none).
	Callback string
}

// Create checks req in this order, the first failure winning: the URLs,
// max_depth, refresh, max_pages, allowed_hosts, then the callback; then it
// records the crawl for req.Tenant with a queued job and enqueues it
// (Enqueue). A queue or store that cannot take it is EUNAVAILABLE.
func (s *Service) Create(ctx context.Context, req Request) (ragqueue.Crawl, error) {
	spec, err := s.checkSpec(req)
	if err != nil {
		return ragqueue.Crawl{}, err
	}
	callback, err := jobs.CheckCallback(req.Callback, s.cfg.Signed)
	if err != nil {
		return ragqueue.Crawl{}, err
	}
	cr := ragqueue.Crawl{ID: uuid.NewString(), JobID: uuid.NewString(), Tenant: req.Tenant, Status: ragqueue.StateQueued, Spec: spec}
	var opts []jobs.EnqueueOption
	if callback != "" {
		opts = append(opts, jobs.WithCallback(callback))
	}
	if err := s.Enqueue(ctx, cr, opts...); err != nil {
		return ragqueue.Crawl{}, jobs.Unavailable("the job queue", err)
	}
	return cr, nil
}

// Get returns crawl id of tenant (ENOTFOUND when the tenant has none).
func (s *Service) Get(ctx context.Context, tenant, id string) (ragqueue.Crawl, error) {
	return s.cfg.Crawls.GetCrawl(ctx, tenant, id)
}

// checkSpec turns req into the crawl's spec under the configured limits.
func (s *Service) checkSpec(req Request) (ragqueue.CrawlSpec, error) {
	lim := s.cfg.Limits
	spec := ragqueue.CrawlSpec{MaxDepth: 1, MaxPages: min(100, lim.MaxPages), RespectRobots: true}
	if err := checkSeeds(&spec, req.URLs); err != nil {
		return spec, err
	}
	if req.MaxDepth != nil {
		if *req.MaxDepth < 0 || *req.MaxDepth > lim.MaxDepth {
			return spec, invalid("max_depth must be from 0 to %d (the cap set by RAGQ_CRAWL_MAX_DEPTH)", lim.MaxDepth)
		}
		spec.MaxDepth = *req.MaxDepth
	}
	spec.MaxDepth = min(spec.MaxDepth, lim.MaxDepth)
	if req.Refresh != "" {
		d, err := time.ParseDuration(req.Refresh)
		if err != nil || d < lim.MinRefresh {
			return spec, invalid("refresh must be a duration such as \"24h\" of at least %s (RAGQ_CRAWL_MIN_REFRESH)", lim.MinRefresh)
		}
		spec.Refresh = d.String()
	}
	if req.MaxPages != nil {
		if *req.MaxPages < 1 || *req.MaxPages > lim.MaxPages {
			return spec, invalid("max_pages must be from 1 to %d (the cap set by RAGQ_CRAWL_MAX_PAGES)", lim.MaxPages)
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

// checkSeeds normalises the crawl's start URLs into spec.URLs.
func checkSeeds(spec *ragqueue.CrawlSpec, urls []string) error {
	if len(urls) == 0 {
		return invalid(`urls is required: the pages to start crawling from, e.g. {"urls":["https://example.com/docs/"]}`)
	}
	if len(urls) > MaxSeeds {
		return invalid("urls has %d entries; at most %d are allowed", len(urls), MaxSeeds)
	}
	for _, u := range urls {
		norm, err := web.NormalizeURL(u)
		if err != nil {
			return invalid("urls: %q is not an absolute http or https URL", u)
		}
		spec.URLs = append(spec.URLs, norm)
	}
	return nil
}

// invalid is an EINVALID error whose message says what to fix.
func invalid(format string, args ...any) error {
	return ragqueue.Errorf(ragqueue.EINVALID, format, args...)
}
