package ragqueue

import (
	"time"
)

// KindCrawl is the job kind of a crawl, as clients see it in GET /v1/jobs/{id}.
const KindCrawl = "crawl"

// CrawlSpec is what a client asked a crawl to do (POST /v1/crawls).
type CrawlSpec struct {
	URLs         []string `json:"urls"`
	MaxDepth     int      `json:"max_depth"` // links away from a seed; 0 fetches the seeds only
	MaxPages     int      `json:"max_pages"`
	AllowedHosts []string `json:"allowed_hosts"`
	// RespectRobots honours robots.txt (rules and Crawl-delay).
	RespectRobots bool `json:"respect_robots"`
	// Refresh, when set (a Go duration such as "24h"), runs the crawl again
	// that long after each successful run, updating pages that changed.
	Refresh string `json:"refresh,omitempty"`
}

// URLError is a URL that could not be fetched or ingested, and why.
type URLError struct {
	URL   string `json:"url"`
	Error string `json:"error"`
}

// Crawl is the client-visible record of one crawl: what was asked, and what
// it has done so far.
type Crawl struct {
	ID           string     `json:"id"`
	Tenant       string     `json:"-"`
	JobID        string     `json:"job_id"`
	Status       State      `json:"status"`
	Spec         CrawlSpec  `json:"request"`
	PagesFetched int        `json:"pages_fetched"`
	PagesFailed  int        `json:"pages_failed"`
	PagesBlocked int        `json:"pages_blocked"`
	Documents    []string   `json:"documents"`
	Errors       []URLError `json:"errors"`
	CreatedAt    time.Time  `json:"created_at"`
	CompletedAt  *time.Time `json:"completed_at"`
	// NextRunAt is when a refreshing crawl runs next (nil when it does not).
	NextRunAt *time.Time `json:"next_run_at"`
}
