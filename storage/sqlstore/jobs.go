package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

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
	_, err = s.w.Exec(ctx, `INSERT INTO jobs (`+jobColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
		j.ID, j.Tenant, j.Type, string(j.State), progress, result, j.Error,
		s.d.time(j.CreatedAt), s.d.time(j.UpdatedAt), s.d.nullTime(j.CompletedAt), j.CallbackURL)
	if err != nil {
		return s.errorf("create job %s: %w", j.ID, err)
	}
	return nil
}

// GetJob implements ragqueue.JobStore.
func (s *Store) GetJob(ctx context.Context, tenant, id string) (ragqueue.Job, error) {
	j, err := scanJob(s.r.QueryRow(ctx, `SELECT `+jobColumns+` FROM jobs WHERE tenant = ? AND id = ?`, tenant, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ragqueue.Job{}, ragqueue.Errorf(ragqueue.ENOTFOUND, "job %s not found", id)
	} else if err != nil {
		return ragqueue.Job{}, s.errorf("get job %s: %w", id, err)
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
	now := s.d.time(now())
	sets := []string{"updated_at = ?"}
	args := []any{now}
	if u.State != nil {
		sets = append(sets, "state = ?")
		args = append(args, string(*u.State))
		if u.State.Terminal() {
			sets = append(sets, "completed_at = COALESCE(completed_at, ?)")
			args = append(args, now)
		} else {
			sets = append(sets, "completed_at = NULL")
		}
	}
	if len(u.Progress) > 0 {
		sets = append(sets, "progress = ?")
		args = append(args, progress)
	}
	if len(u.Result) > 0 {
		sets = append(sets, "result = ?")
		args = append(args, result)
	}
	if u.Error != nil {
		sets = append(sets, "error = ?")
		args = append(args, *u.Error)
	}
	args = append(args, tenant, id)
	res, err := s.w.Exec(ctx, `UPDATE jobs SET `+strings.Join(sets, ", ")+` WHERE tenant = ? AND id = ?`, args...)
	if err != nil {
		return s.errorf("update job %s: %w", id, err)
	}
	return s.mustAffect(res, "job %s not found", id)
}

// UnfinishedJobs implements ragqueue.JobStore. limit <= 0 means 100.
func (s *Store) UnfinishedJobs(ctx context.Context, kind string, limit int) ([]ragqueue.Job, error) {
	js, err := list(ctx, s.r, scanJob, `SELECT `+jobColumns+` FROM jobs
		WHERE state NOT IN ('succeeded', 'failed', 'canceled') AND (? = '' OR type = ?)
		ORDER BY created_at, id LIMIT ?`, kind, kind, storage.ScanLimit(limit))
	if err != nil {
		return nil, s.errorf("unfinished jobs: %w", err)
	}
	return js, nil
}

// scanJob reads one row of jobColumns.
func scanJob(sc scanner) (ragqueue.Job, error) {
	var (
		j                ragqueue.Job
		state            string
		progress, result []byte
	)
	err := sc.Scan(&j.ID, &j.Tenant, &j.Type, &state, &progress, &result, &j.Error,
		timeCol{&j.CreatedAt}, timeCol{&j.UpdatedAt}, nullTimeCol{&j.CompletedAt}, &j.CallbackURL)
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
	return j, nil
}
