package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/ragqueue/ragqueue"
	"github.com/ragqueue/ragqueue/storage"
)

const jobColumns = `id, tenant, type, state, progress, result, error, created_at, updated_at, completed_at, callback_url`

// CreateJob implements ragqueue.JobStore. It is idempotent: when a job with j.ID
// exists it returns nil and changes nothing. An empty State becomes queued;
// zero times become now.
func (s *Store) CreateJob(ctx context.Context, j ragqueue.Job) error {
	j, progress, result, err := storage.PrepareJob(j, now())
	if err != nil {
		return err
	}
	_, err = s.pool.Exec(ctx, `INSERT INTO jobs (`+jobColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`,
		j.ID, j.Tenant, j.Type, string(j.State), progress, result, j.Error,
		ts(j.CreatedAt), ts(j.UpdatedAt), nullTS(j.CompletedAt), j.CallbackURL)
	if err != nil {
		return fmt.Errorf("postgres: create job %s: %w", j.ID, err)
	}
	return nil
}

// GetJob implements ragqueue.JobStore.
func (s *Store) GetJob(ctx context.Context, tenant, id string) (ragqueue.Job, error) {
	row := s.pool.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE tenant = $1 AND id = $2`, tenant, id)
	j, err := scanJob(row)
	if isNoRows(err) {
		return ragqueue.Job{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "job %s not found", id)
	} else if err != nil {
		return ragqueue.Job{}, fmt.Errorf("postgres: get job %s: %w", id, err)
	}
	return j, nil
}

// UpdateJob implements ragqueue.JobStore. A terminal State sets completed_at
// (keeping an earlier completion time); a non-terminal one clears it. Empty
// Progress or Result are left alone; a JSON null clears the field.
func (s *Store) UpdateJob(ctx context.Context, tenant, id string, u ragqueue.JobUpdate) error {
	progress, result, err := storage.PrepareJobUpdate(u)
	if err != nil {
		return err
	}
	now := now()
	var (
		sets []string
		args []any
	)
	set := func(expr string, v any) {
		args = append(args, v)
		sets = append(sets, fmt.Sprintf(expr, len(args)))
	}
	set("updated_at = $%d", now)
	if u.State != nil {
		set("state = $%d", string(*u.State))
		if u.State.Terminal() {
			set("completed_at = COALESCE(completed_at, $%d)", now)
		} else {
			sets = append(sets, "completed_at = NULL")
		}
	}
	if len(u.Progress) > 0 {
		set("progress = $%d", progress)
	}
	if len(u.Result) > 0 {
		set("result = $%d", result)
	}
	if u.Error != nil {
		set("error = $%d", *u.Error)
	}
	args = append(args, tenant, id)
	tag, err := s.pool.Exec(ctx, fmt.Sprintf(`UPDATE jobs SET %s WHERE tenant = $%d AND id = $%d`,
		strings.Join(sets, ", "), len(args)-1, len(args)), args...)
	if err != nil {
		return fmt.Errorf("postgres: update job %s: %w", id, err)
	}
	return mustAffect(tag, "job %s not found", id)
}

// UnfinishedJobs implements ragqueue.JobStore. limit <= 0 means 100.
func (s *Store) UnfinishedJobs(ctx context.Context, kind string, limit int) ([]ragqueue.Job, error) {
	limit = storage.ScanLimit(limit)
	rows, err := s.pool.Query(ctx, `SELECT `+jobColumns+` FROM jobs
		WHERE state NOT IN ('succeeded', 'failed', 'canceled') AND ($1 = '' OR type = $1)
		ORDER BY created_at, id LIMIT $2`, kind, limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: unfinished jobs: %w", err)
	}
	defer rows.Close()
	list := []ragqueue.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, fmt.Errorf("postgres: unfinished jobs: %w", err)
		}
		list = append(list, j)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("postgres: unfinished jobs: %w", err)
	}
	return list, nil
}

func scanJob(row pgx.Row) (ragqueue.Job, error) {
	var (
		j                ragqueue.Job
		state            string
		progress, result []byte
	)
	err := row.Scan(&j.ID, &j.Tenant, &j.Type, &state, &progress, &result, &j.Error,
		&j.CreatedAt, &j.UpdatedAt, &j.CompletedAt, &j.CallbackURL)
	if err != nil {
		return ragqueue.Job{}, err
	}
	j.State = ragqueue.State(state)
	if progress != nil {
		j.Progress = json.RawMessage(progress)
	}
	if result != nil {
		j.Result = json.RawMessage(result)
	}
	j.CreatedAt, j.UpdatedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC()
	if j.CompletedAt != nil {
		c := j.CompletedAt.UTC()
		j.CompletedAt = &c
	}
	return j, nil
}
