-- +goose Up
-- Placeholder so the embed pattern always matches; real tables come in
-- 00002 (metadata) and 00003 (index).
SELECT 1;

-- +goose Down
SELECT 1;
