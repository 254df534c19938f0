package crawls_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/jobs"
	"github.com/ragqueue/ragqueue/jobs/crawls"
	"github.com/ragqueue/ragqueue/storage/redistest"
)

// createBundle is a crawl service that records crawls and enqueues them on
// the env's queue, as the API does, with caps of 50 pages, depth 2 and a
// refresh of at least an hour.
type createBundle struct {
	*env
	crawler *crawls.Service
}

func setupCreate(t *testing.T, signed bool) *createBundle {
	t.Helper()
	e := newEnv(t, redistest.Miniredis(t))
	return &createBundle{env: e, crawler: crawls.New(crawls.Config{
		Crawls: e.Store, Documents: e.Deps(e.Asynq).Documents(e.Client),
		Client: e.Client, Tracker: e.Tracker(e.Asynq, nil), Logger: e.Logger,
		Limits: crawls.Limits{MaxPages: 50, MaxDepth: 2, MinRefresh: time.Hour},
		Signed: signed,
	})}
}

func intPtr(n int) *int { return &n }

// TestCreateChecksInOrder: a crawl request is refused with the message of
// its first problem, in the order URLs, max_depth, refresh, max_pages,
// allowed_hosts, callback; nothing is recorded or enqueued.
func TestCreateChecksInOrder(t *testing.T) {
	t.Parallel()
	b := setupCreate(t, false)
	seeds := []string{"https://example.com/"}
	tooMany := make([]string, crawls.MaxSeeds+1)
	for i := range tooMany {
		tooMany[i] = fmt.Sprintf("https://example.com/%d", i)
	}
	tests := []struct {
		name string
		req  crawls.Request
		want string
	}{
		{"no urls", crawls.Request{}, `urls is required: the pages to start crawling from, e.g. {"urls":["https://example.com/docs/"]}`},
		{"too many urls", crawls.Request{URLs: tooMany}, "urls has 101 entries; at most 100 are allowed"},
		{"relative url", crawls.Request{URLs: []string{"/docs"}, MaxDepth: intPtr(9)}, `urls: "/docs" is not an absolute http or https URL`},
		{"depth over the cap", crawls.Request{URLs: seeds, MaxDepth: intPtr(3), Refresh: "1m"}, "max_depth must be from 0 to 2 (the cap set by RAGQ_CRAWL_MAX_DEPTH)"},
		{"negative depth", crawls.Request{URLs: seeds, MaxDepth: intPtr(-1)}, "max_depth must be from 0 to 2 (the cap set by RAGQ_CRAWL_MAX_DEPTH)"},
		{"refresh too short", crawls.Request{URLs: seeds, Refresh: "1m", MaxPages: intPtr(0)}, `refresh must be a duration such as "24h" of at least 1h0m0s (RAGQ_CRAWL_MIN_REFRESH)`},
		{"refresh not a duration", crawls.Request{URLs: seeds, Refresh: "daily"}, `refresh must be a duration such as "24h" of at least 1h0m0s (RAGQ_CRAWL_MIN_REFRESH)`},
		{"pages over the cap", crawls.Request{URLs: seeds, MaxPages: intPtr(51), AllowedHosts: []string{"a/b"}}, "max_pages must be from 1 to 50 (the cap set by RAGQ_CRAWL_MAX_PAGES)"},
		{"no pages", crawls.Request{URLs: seeds, MaxPages: intPtr(0)}, "max_pages must be from 1 to 50 (the cap set by RAGQ_CRAWL_MAX_PAGES)"},
		{"host with a port", crawls.Request{URLs: seeds, AllowedHosts: []string{"Docs.Example.com:8080"}, Callback: "https://hooks.example.com/"}, `allowed_hosts: "docs.example.com:8080" is not a host name (give names like docs.example.com, without scheme or port)`},
		{"blank host", crawls.Request{URLs: seeds, AllowedHosts: []string{" "}}, `allowed_hosts: "" is not a host name (give names like docs.example.com, without scheme or port)`},
		{"callback unsigned", crawls.Request{URLs: seeds, Callback: "https://hooks.example.com/"}, "callback_url needs the server to sign its notifications: set RAGQ_WEBHOOK_SECRET"},
	}
	for _, tt := range tests {
		tt.req.Tenant = "acme"
		_, err := b.crawler.Create(t.Context(), tt.req)
		require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(err), tt.name)
		require.Equal(t, tt.want, ragqueue.ErrorMessage(err), tt.name)
	}
	pending, err := b.Inspector.ListPendingTasks(jobs.QueueIngest)
	if err == nil {
		require.Empty(t, pending, "a refused crawl enqueues nothing")
	}
}

// TestCreateRecordsAndEnqueues: an accepted request is normalised (URLs,
// host names, the defaults of depth, pages and robots), recorded with a
// queued job carrying its callback, and enqueued; Get shows it to its
// tenant only.
func TestCreateRecordsAndEnqueues(t *testing.T) {
	t.Parallel()
	b := setupCreate(t, true)
	ctx := t.Context()
	cr, err := b.crawler.Create(ctx, crawls.Request{
		Tenant: "acme", URLs: []string{"HTTPS://Example.COM:443/docs#intro"},
		AllowedHosts: []string{" Docs.Example.com "}, Refresh: "90m",
		Callback: " https://hooks.example.com/ragqueue ",
	})
	require.NoError(t, err)
	require.NotEmpty(t, cr.ID)
	require.NotEmpty(t, cr.JobID)
	require.Equal(t, ragqueue.StateQueued, cr.Status)
	require.Equal(t, ragqueue.CrawlSpec{
		URLs: []string{"https://example.com/docs"}, MaxDepth: 1, MaxPages: 50,
		AllowedHosts: []string{"docs.example.com"}, RespectRobots: true, Refresh: "1h30m0s",
	}, cr.Spec)

	got, err := b.crawler.Get(ctx, "acme", cr.ID)
	require.NoError(t, err)
	require.Equal(t, cr.Spec, got.Spec)
	require.Equal(t, cr.JobID, got.JobID)
	_, err = b.crawler.Get(ctx, "other", cr.ID)
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(err))

	job := b.GetJob(t, "acme", cr.JobID)
	require.Equal(t, ragqueue.KindCrawl, job.Type)
	require.Equal(t, ragqueue.StateQueued, job.State)
	require.Equal(t, "https://hooks.example.com/ragqueue", job.CallbackURL)

	pending, err := b.Inspector.ListPendingTasks(jobs.QueueIngest)
	require.NoError(t, err)
	require.Len(t, pending, 1)
	require.Equal(t, jobs.TaskCrawl, pending[0].Type)
	require.True(t, strings.Contains(pending[0].ID, cr.ID), pending[0].ID)

	robots := false
	cr, err = b.crawler.Create(ctx, crawls.Request{Tenant: "acme", URLs: []string{"https://example.com/a"}, MaxDepth: intPtr(0), MaxPages: intPtr(50), RespectRobots: &robots})
	require.NoError(t, err)
	require.Equal(t, ragqueue.CrawlSpec{URLs: []string{"https://example.com/a"}, MaxDepth: 0, MaxPages: 50, RespectRobots: false}, cr.Spec)
}

// TestCreateQueueDown: a queue that cannot take the crawl is EUNAVAILABLE,
// with the message clients see.
func TestCreateQueueDown(t *testing.T) {
	t.Parallel()
	b := setupCreate(t, false)
	down := asynq.NewClient(asynq.RedisClientOpt{Addr: "127.0.0.1:1", DialTimeout: 100 * time.Millisecond})
	t.Cleanup(func() { _ = down.Close() })
	client := jobs.NewClient(down, b.Store, b.Logger)
	crawler := crawls.New(crawls.Config{
		Crawls: b.Store, Documents: b.Deps(down).Documents(client), Client: client, Tracker: b.Tracker(down, nil),
		Logger: b.Logger, Limits: crawls.Limits{MaxPages: 5, MaxDepth: 1, MinRefresh: time.Hour},
	})
	_, err := crawler.Create(t.Context(), crawls.Request{Tenant: "acme", URLs: []string{"https://example.com/"}})
	require.Equal(t, ragqueue.EUNAVAILABLE, ragqueue.ErrorCode(err))
	require.Equal(t, "the job queue is unavailable; try again shortly", ragqueue.ErrorMessage(err))
}
