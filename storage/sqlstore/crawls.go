package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const crawlColumns = `id, tenant, job_id, status, spec, pages_fetched, pages_failed, pages_blocked,
	documents, errors, created_at, completed_at, next_run_at`

// CreateCrawl implements ragqueue.CrawlStore.
func (s *Store) CreateCrawl(ctx context.Context, c ragqueue.Crawl) error {
	c, err := storage.PrepareCrawl(c, now())
	if err != nil {
		return err
	}
	spec, docs, errs, err := storage.CrawlJSON(c)
	if err != nil {
		return err
	}
	_, err = s.w.Exec(ctx, `INSERT INTO crawls (`+crawlColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		c.ID, c.Tenant, c.JobID, string(c.Status), spec, c.PagesFetched, c.PagesFailed, c.PagesBlocked,
		docs, errs, s.d.time(c.CreatedAt), s.d.nullTime(c.CompletedAt), s.d.nullTime(c.NextRunAt))
	if err != nil {
		return s.errorf("create crawl %s: %w", c.ID, err)
	}
	return nil
}

// GetCrawl implements ragqueue.CrawlStore.
func (s *Store) GetCrawl(ctx context.Context, tenant, id string) (ragqueue.Crawl, error) {
	c, err := scanCrawl(s.r.QueryRow(ctx, `SELECT `+crawlColumns+` FROM crawls WHERE tenant = ? AND id = ?`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Crawl{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "crawl %s not found", id)
	} else if err != nil {
		return ragqueue.Crawl{}, s.errorf("get crawl %s: %w", id, err)
	}
	return c, nil
}

// UnfinishedCrawls implements ragqueue.CrawlStore. limit <= 0 means 100, as
// for the reconciler's other scans.
func (s *Store) UnfinishedCrawls(ctx context.Context, limit int) ([]ragqueue.Crawl, error) {
	crawls, err := list(ctx, s.r, scanCrawl, `SELECT `+crawlColumns+` FROM crawls
		WHERE status NOT IN ('succeeded', 'failed', 'canceled') OR next_run_at IS NOT NULL
		ORDER BY created_at, id LIMIT ?`, storage.ScanLimit(limit))
	if err != nil {
		return nil, s.errorf("unfinished crawls: %w", err)
	}
	return crawls, nil
}

// UpdateCrawl implements ragqueue.CrawlStore. A terminal status sets
// completed_at (keeping an earlier one) unless c.CompletedAt is given.
func (s *Store) UpdateCrawl(ctx context.Context, c ragqueue.Crawl) error {
	_, docs, errs, err := storage.CrawlJSON(c)
	if err != nil {
		return err
	}
	completed := s.d.nullTime(storage.CrawlCompletion(c, now()))
	res, err := s.w.Exec(ctx, `UPDATE crawls SET job_id = ?, status = ?, pages_fetched = ?, pages_failed = ?,
		pages_blocked = ?, documents = ?, errors = ?,
		completed_at = CASE WHEN ?`+s.d.TimeCast+` IS NULL THEN NULL ELSE COALESCE(completed_at, ?`+s.d.TimeCast+`) END,
		next_run_at = ? WHERE tenant = ? AND id = ?`,
		c.JobID, string(c.Status), c.PagesFetched, c.PagesFailed, c.PagesBlocked, docs, errs, completed, completed,
		s.d.nullTime(c.NextRunAt), c.Tenant, c.ID)
	if err != nil {
		return s.errorf("update crawl %s: %w", c.ID, err)
	}
	return s.mustAffect(res, "crawl %s not found", c.ID)
}

// scanCrawl reads one row of crawlColumns.
func scanCrawl(sc scanner) (ragqueue.Crawl, error) {
	var (
		c                 ragqueue.Crawl
		status            string
		spec, docs, errs  []byte
		fetched, fail, bl int64
	)
	if err := sc.Scan(&c.ID, &c.Tenant, &c.JobID, &status, &spec, &fetched, &fail, &bl, &docs, &errs,
		timeCol{&c.CreatedAt}, nullTimeCol{&c.CompletedAt}, nullTimeCol{&c.NextRunAt}); err != nil {
		return ragqueue.Crawl{}, err
	}
	c.Status = ragqueue.State(status)
	c.PagesFetched, c.PagesFailed, c.PagesBlocked = int(fetched), int(fail), int(bl)
	if err := storage.DecodeCrawlJSON(&c, spec, docs, errs); err != nil {
		return ragqueue.Crawl{}, err
	}
	return c, nil
}
