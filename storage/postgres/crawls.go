package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const crawlColumns = `id, tenant, job_id, status, spec, pages_fetched, pages_failed, pages_blocked,
	documents, errors, created_at, completed_at, next_run_at`

// DocumentBySource implements ragqueue.DocumentStore.
func (s *Store) DocumentBySource(ctx context.Context, tenant, source string) (ragqueue.Document, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+documentColumns+` FROM documents
		WHERE tenant = $1 AND source = $2 ORDER BY created_at DESC, id DESC LIMIT 1`, tenant, source)
	d, err := scanDocument(row)
	if isNoRows(err) {
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "no document has the source %s", source)
	} else if err != nil {
		return ragqueue.Document{}, fmt.Errorf("postgres: document by source: %w", err)
	}
	return d, nil
}

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
	_, err = s.pool.Exec(ctx, `INSERT INTO crawls (`+crawlColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (id) DO NOTHING`,
		c.ID, c.Tenant, c.JobID, string(c.Status), spec, c.PagesFetched, c.PagesFailed, c.PagesBlocked,
		docs, errs, ts(c.CreatedAt), nullTS(c.CompletedAt), nullTS(c.NextRunAt))
	if err != nil {
		return fmt.Errorf("postgres: create crawl %s: %w", c.ID, err)
	}
	return nil
}

// GetCrawl implements ragqueue.CrawlStore.
func (s *Store) GetCrawl(ctx context.Context, tenant, id string) (ragqueue.Crawl, error) {
	c, err := scanCrawl(s.pool.QueryRow(ctx, `SELECT `+crawlColumns+` FROM crawls WHERE tenant = $1 AND id = $2`, tenant, id))
	if isNoRows(err) {
		return ragqueue.Crawl{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "crawl %s not found", id)
	} else if err != nil {
		return ragqueue.Crawl{}, fmt.Errorf("postgres: get crawl %s: %w", id, err)
	}
	return c, nil
}

// UnfinishedCrawls implements ragqueue.CrawlStore. limit <= 0 means 100, as
// for the reconciler's other scans.
func (s *Store) UnfinishedCrawls(ctx context.Context, limit int) ([]ragqueue.Crawl, error) {
	limit = storage.ScanLimit(limit)
	rows, err := s.pool.Query(ctx, `SELECT `+crawlColumns+` FROM crawls
		WHERE status NOT IN ('succeeded', 'failed', 'canceled') OR next_run_at IS NOT NULL
		ORDER BY created_at, id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: unfinished crawls: %w", err)
	}
	defer rows.Close()
	out := []ragqueue.Crawl{}
	for rows.Next() {
		c, err := scanCrawl(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: unfinished crawls: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// scanCrawl reads one row of crawlColumns.
func scanCrawl(row pgx.Row) (ragqueue.Crawl, error) {
	var (
		c                ragqueue.Crawl
		status           string
		spec, docs, errs []byte
		completed, next  *time.Time
	)
	err := row.Scan(&c.ID, &c.Tenant, &c.JobID, &status, &spec, &c.PagesFetched, &c.PagesFailed, &c.PagesBlocked,
		&docs, &errs, &c.CreatedAt, &completed, &next)
	if err != nil {
		return ragqueue.Crawl{}, err
	}
	c.Status = ragqueue.State(status)
	if err := storage.DecodeCrawlJSON(&c, spec, docs, errs); err != nil {
		return ragqueue.Crawl{}, err
	}
	c.CreatedAt = c.CreatedAt.UTC()
	if completed != nil {
		t := completed.UTC()
		c.CompletedAt = &t
	}
	if next != nil {
		t := next.UTC()
		c.NextRunAt = &t
	}
	return c, nil
}

// nullTS prepares an optional time for a TIMESTAMPTZ parameter.
func nullTS(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ts(*t)
	return &v
}

// UpdateCrawl implements ragqueue.CrawlStore. A terminal status sets
// completed_at (keeping an earlier one) unless c.CompletedAt is given.
func (s *Store) UpdateCrawl(ctx context.Context, c ragqueue.Crawl) error {
	_, docs, errs, err := storage.CrawlJSON(c)
	if err != nil {
		return err
	}
	completed := nullTS(storage.CrawlCompletion(c, now()))
	tag, err := s.pool.Exec(ctx, `UPDATE crawls SET status = $1, pages_fetched = $2, pages_failed = $3,
		pages_blocked = $4, documents = $5, errors = $6,
		completed_at = CASE WHEN $7::timestamptz IS NULL THEN NULL ELSE COALESCE(completed_at, $7::timestamptz) END,
		job_id = $8, next_run_at = $9
		WHERE tenant = $10 AND id = $11`,
		string(c.Status), c.PagesFetched, c.PagesFailed, c.PagesBlocked, docs, errs, completed,
		c.JobID, nullTS(c.NextRunAt), c.Tenant, c.ID)
	if err != nil {
		return fmt.Errorf("postgres: update crawl %s: %w", c.ID, err)
	}
	return mustAffect(tag, "crawl %s not found", c.ID)
}
