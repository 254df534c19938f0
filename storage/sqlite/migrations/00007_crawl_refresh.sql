-- +goose Up
-- A crawl with a refresh interval is run again at next_run_at; the
-- reconciler uses it to put back a scheduled run that Redis lost.
ALTER TABLE crawls ADD COLUMN next_run_at INTEGER;

-- +goose Down
ALTER TABLE crawls DROP COLUMN next_run_at;
