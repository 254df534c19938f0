package jobs

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
)

// TaskCrawl is the Asynq task type of a crawl.
const TaskCrawl = "crawl:run"

// Crawl task limits.
const (
	crawlMaxRetry = 2
	crawlTimeout  = 2 * time.Hour
)

// CrawlArgs asks a worker to run a recorded crawl; what to crawl is in the
// crawl record (the database is the truth).
type CrawlArgs struct {
	Tenant  string `json:"tenant"`
	CrawlID string `json:"crawl_id"`
	JobID   string `json:"job_id"`
}

// Kind implements Args.
func (CrawlArgs) Kind() string { return TaskCrawl }

// TaskOptions implements ArgsWithOptions: the ingest queue, 2 retries, 2 hours.
func (CrawlArgs) TaskOptions() []asynq.Option {
	return []asynq.Option{asynq.Queue(QueueIngest), asynq.MaxRetry(crawlMaxRetry), asynq.Timeout(crawlTimeout)}
}

// TaskID implements ArgsWithID: the run of crawl CrawlID under job JobID.
// The first run and each refresh run have a job, and so a task ID, of their
// own. Naming the crawl alone would not do: the reconciler, enqueueing an
// unfinished crawl's run again, would then miss a refresh run's task and
// start a second run beside it.
func (a CrawlArgs) TaskID() string { return "crawl-" + a.CrawlID + "-" + a.JobID }

func (a CrawlArgs) validate() error {
	switch {
	case a.Tenant == "":
		return fmt.Errorf("tenant is empty")
	case a.CrawlID == "":
		return fmt.Errorf("crawl_id is empty")
	case a.JobID == "":
		return fmt.Errorf("job_id is empty")
	}
	return nil
}

func (a CrawlArgs) logAttrs() []slog.Attr {
	return []slog.Attr{slog.String("tenant", a.Tenant), slog.String("crawl_id", a.CrawlID), slog.String("job_id", a.JobID)}
}
