-- +goose Up
-- Placeholder so the embed pattern always matches; the real tables come in
-- 00002_metadata.sql (documents, chunks, jobs, api_keys) and 00003 (index).
SELECT 1;

-- +goose Down
SELECT 1;
