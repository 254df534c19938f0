package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const crawlColumns = `id, tenant, job_id, status, spec, pages_fetched, pages_failed, pages_blocked,
	documents, errors, created_at, completed_at, next_run_at`

// DocumentBySource implements ragqueue.DocumentStore.
func (s *Store) DocumentBySource(ctx context.Context, tenant, source string) (ragqueue.Document, error) {
	// INDEXED BY: left to itself, the planner prefers the (tenant,
	// created_at) index that serves the ORDER BY, and scans every document
	// of the tenant; a URL has one or two documents.
	row := s.rdb.QueryRowContext(ctx, `SELECT `+documentColumns+` FROM documents INDEXED BY documents_tenant_source
		WHERE tenant = ? AND source = ? ORDER BY created_at DESC, id DESC LIMIT 1`, tenant, source)
	d, err := scanDocument(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Document{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "no document has the source %s", source)
	} else if err != nil {
		return ragqueue.Document{}, fmt.Errorf("sqlite: document by source: %w", err)
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
	_, err = s.db.ExecContext(ctx, `INSERT INTO crawls (`+crawlColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		c.ID, c.Tenant, c.JobID, string(c.Status), spec, c.PagesFetched, c.PagesFailed, c.PagesBlocked,
		docs, errs, nanos(c.CreatedAt), nullNanos(c.CompletedAt), nullNanos(c.NextRunAt))
	if err != nil {
		return fmt.Errorf("sqlite: create crawl %s: %w", c.ID, err)
	}
	return nil
}

// GetCrawl implements ragqueue.CrawlStore.
func (s *Store) GetCrawl(ctx context.Context, tenant, id string) (ragqueue.Crawl, error) {
	c, err := scanCrawl(s.rdb.QueryRowContext(ctx, `SELECT `+crawlColumns+` FROM crawls WHERE tenant = ? AND id = ?`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Crawl{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "crawl %s not found", id)
	} else if err != nil {
		return ragqueue.Crawl{}, fmt.Errorf("sqlite: get crawl %s: %w", id, err)
	}
	return c, nil
}

// UnfinishedCrawls implements ragqueue.CrawlStore. limit <= 0 means 100, as
// for the reconciler's other scans.
func (s *Store) UnfinishedCrawls(ctx context.Context, limit int) ([]ragqueue.Crawl, error) {
	limit = storage.ScanLimit(limit)
	rows, err := s.rdb.QueryContext(ctx, `SELECT `+crawlColumns+` FROM crawls
		WHERE status NOT IN ('succeeded', 'failed', 'canceled') OR next_run_at IS NOT NULL
		ORDER BY created_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: unfinished crawls: %w", err)
	}
	defer rows.Close()
	out := []ragqueue.Crawl{}
	for rows.Next() {
		c, err := scanCrawl(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: unfinished crawls: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// scanCrawl reads one row of crawlColumns.
func scanCrawl(sc scanner) (ragqueue.Crawl, error) {
	var (
		c                 ragqueue.Crawl
		status            string
		spec, docs, errs  string
		created           int64
		completed, next   sql.NullInt64
		fetched, fail, bl int64
	)
	if err := sc.Scan(&c.ID, &c.Tenant, &c.JobID, &status, &spec, &fetched, &fail, &bl, &docs, &errs, &created, &completed, &next); err != nil {
		return ragqueue.Crawl{}, err
	}
	c.Status = ragqueue.State(status)
	c.PagesFetched, c.PagesFailed, c.PagesBlocked = int(fetched), int(fail), int(bl)
	if err := storage.DecodeCrawlJSON(&c, []byte(spec), []byte(docs), []byte(errs)); err != nil {
		return ragqueue.Crawl{}, err
	}
	c.CreatedAt = fromNanos(created)
	if completed.Valid {
		t := fromNanos(completed.Int64)
		c.CompletedAt = &t
	}
	if next.Valid {
		t := fromNanos(next.Int64)
		c.NextRunAt = &t
	}
	return c, nil
}

// nullNanos stores an optional time.
func nullNanos(t *time.Time) any {
	if t == nil {
		return nil
	}
	return nanos(*t)
}

// UpdateCrawl implements ragqueue.CrawlStore. A terminal status sets
// completed_at (keeping an earlier one) unless c.CompletedAt is given.
func (s *Store) UpdateCrawl(ctx context.Context, c ragqueue.Crawl) error {
	_, docs, errs, err := storage.CrawlJSON(c)
	if err != nil {
		return err
	}
	completed := nullNanos(storage.CrawlCompletion(c, now()))
	res, err := s.db.ExecContext(ctx, `UPDATE crawls SET job_id = ?, status = ?, pages_fetched = ?, pages_failed = ?,
		pages_blocked = ?, documents = ?, errors = ?, completed_at = CASE WHEN ? IS NULL THEN NULL ELSE COALESCE(completed_at, ?) END,
		next_run_at = ? WHERE tenant = ? AND id = ?`,
		c.JobID, string(c.Status), c.PagesFetched, c.PagesFailed, c.PagesBlocked, docs, errs, completed, completed,
		nullNanos(c.NextRunAt), c.Tenant, c.ID)
	if err != nil {
		return fmt.Errorf("sqlite: update crawl %s: %w", c.ID, err)
	}
	return mustAffect(res, "crawl %s not found", c.ID)
}
