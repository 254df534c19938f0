-- +goose Up
-- A job may name a URL to notify when it ends (webhooks).
ALTER TABLE jobs ADD COLUMN callback_url TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE jobs DROP COLUMN callback_url;
