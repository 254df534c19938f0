package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ragqueue/ragqueue"
)

func crawlTests() []test {
	return []test{
		{"CreateGetUpdate", testCrawlRoundTrip},
		{"CreateIdempotentAndInvalid", testCrawlCreateIdempotent},
		{"TenantIsolation", testCrawlTenantIsolation},
		{"DocumentBySource", testDocumentBySource},
		{"RefreshSchedule", testCrawlRefreshSchedule},
	}
}

// testCrawlRefreshSchedule: a finished crawl with a next run stays on the
// reconciler's list; starting the run moves it to a new job and clears
// completion until the run ends.
func testCrawlRefreshSchedule(t *testing.T, s Store) {
	ctx := context.Background()
	tenant := "refresh-" + time.Now().Format("150405.000000000")
	c := newCrawl(tenant, "c-"+tenant)
	c.Spec.Refresh = "24h"
	require.NoError(t, s.CreateCrawl(ctx, c))

	c.Status = ragqueue.StateSucceeded
	next := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Microsecond)
	c.NextRunAt = &next
	require.NoError(t, s.UpdateCrawl(ctx, c))
	got, err := s.GetCrawl(ctx, tenant, c.ID)
	require.NoError(t, err)
	require.Equal(t, "24h", got.Spec.Refresh)
	require.NotNil(t, got.CompletedAt)
	require.NotNil(t, got.NextRunAt)
	require.True(t, got.NextRunAt.Equal(next))
	require.True(t, containsCrawl(t, s, c.ID), "a scheduled crawl is unfinished business")

	got.Status, got.JobID, got.NextRunAt, got.CompletedAt = ragqueue.StateActive, "job-run-2", nil, nil
	require.NoError(t, s.UpdateCrawl(ctx, got))
	run, err := s.GetCrawl(ctx, tenant, c.ID)
	require.NoError(t, err)
	require.Equal(t, "job-run-2", run.JobID)
	require.Nil(t, run.NextRunAt)
	require.Nil(t, run.CompletedAt)

	run.Status = ragqueue.StateSucceeded
	require.NoError(t, s.UpdateCrawl(ctx, run))
	require.False(t, containsCrawl(t, s, c.ID), "finished and not scheduled")
}

func containsCrawl(t *testing.T, s Store, id string) bool {
	t.Helper()
	list, err := s.UnfinishedCrawls(context.Background(), 1000)
	require.NoError(t, err)
	for _, c := range list {
		if c.ID == id {
			return true
		}
	}
	return false
}

func newCrawl(tenant, id string) ragqueue.Crawl {
	return ragqueue.Crawl{ID: id, Tenant: tenant, JobID: "job-" + id, Spec: ragqueue.CrawlSpec{
		URLs: []string{"https://example.com/"}, MaxDepth: 2, MaxPages: 10, AllowedHosts: []string{"docs.example.com"}, RespectRobots: true,
	}}
}

func testCrawlRoundTrip(t *testing.T, s Store) {
	ctx := context.Background()
	c := newCrawl("t1", "c1")
	require.NoError(t, s.CreateCrawl(ctx, c))
	got, err := s.GetCrawl(ctx, "t1", "c1")
	require.NoError(t, err)
	require.Equal(t, ragqueue.StateQueued, got.Status)
	require.Equal(t, c.Spec, got.Spec)
	require.Equal(t, "job-c1", got.JobID)
	require.Empty(t, got.Documents)
	require.NotNil(t, got.Documents)
	require.NotNil(t, got.Errors)
	require.Nil(t, got.CompletedAt)
	unfinished, err := s.UnfinishedCrawls(ctx, 10)
	require.NoError(t, err)
	require.Len(t, unfinished, 1)
	require.Equal(t, c.Spec, unfinished[0].Spec)
	unlimited, err := s.UnfinishedCrawls(ctx, 0)
	require.NoError(t, err)
	require.Equal(t, unfinished, unlimited, "no limit is the default scan limit, not none")
	requireRecent(t, got.CreatedAt)

	got.Status = ragqueue.StateActive
	got.PagesFetched, got.PagesFailed, got.PagesBlocked = 3, 2, 1
	got.Documents = []string{"d1", "d2"}
	got.Errors = []ragqueue.URLError{{URL: "http://10.0.0.1/", Error: "refused"}}
	require.NoError(t, s.UpdateCrawl(ctx, got))
	again, err := s.GetCrawl(ctx, "t1", "c1")
	require.NoError(t, err)
	require.Equal(t, 3, again.PagesFetched)
	require.Equal(t, 2, again.PagesFailed)
	require.Equal(t, 1, again.PagesBlocked)
	require.Equal(t, []string{"d1", "d2"}, again.Documents)
	require.Equal(t, got.Errors, again.Errors)
	require.Nil(t, again.CompletedAt)

	again.Status = ragqueue.StateSucceeded
	require.NoError(t, s.UpdateCrawl(ctx, again))
	done, err := s.GetCrawl(ctx, "t1", "c1")
	require.NoError(t, err)
	require.Equal(t, ragqueue.StateSucceeded, done.Status)
	require.NotNil(t, done.CompletedAt)
	unfinished, err = s.UnfinishedCrawls(ctx, 10)
	require.NoError(t, err)
	require.Empty(t, unfinished)

	missing := newCrawl("t1", "nope")
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(s.UpdateCrawl(ctx, missing)))
}

func testCrawlCreateIdempotent(t *testing.T, s Store) {
	ctx := context.Background()
	c := newCrawl("t1", "c1")
	require.NoError(t, s.CreateCrawl(ctx, c))
	c.JobID = "other"
	require.NoError(t, s.CreateCrawl(ctx, c))
	got, err := s.GetCrawl(ctx, "t1", "c1")
	require.NoError(t, err)
	require.Equal(t, "job-c1", got.JobID)
	require.Equal(t, ragqueue.EINVALID, ragqueue.ErrorCode(s.CreateCrawl(ctx, ragqueue.Crawl{ID: "x"})))
}

func testCrawlTenantIsolation(t *testing.T, s Store) {
	ctx := context.Background()
	require.NoError(t, s.CreateCrawl(ctx, newCrawl("t1", "c1")))
	_, err := s.GetCrawl(ctx, "t2", "c1")
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(err))
	other := newCrawl("t2", "c1")
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(s.UpdateCrawl(ctx, other)))
}

func testDocumentBySource(t *testing.T, s Store) {
	ctx := context.Background()
	d := newDoc("t1", "page")
	d.Source = "https://example.com/page"
	created, _, err := s.CreateDocument(ctx, d)
	require.NoError(t, err)
	got, err := s.DocumentBySource(ctx, "t1", "https://example.com/page")
	require.NoError(t, err)
	require.Equal(t, created.ID, got.ID)
	_, err = s.DocumentBySource(ctx, "t2", "https://example.com/page")
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(err))
	_, err = s.DocumentBySource(ctx, "t1", "https://example.com/other")
	require.Equal(t, ragqueue.ENOTFOUND, ragqueue.ErrorCode(err))
}
