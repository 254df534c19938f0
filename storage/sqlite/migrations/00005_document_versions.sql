-- +goose Up
-- While a new version of a document is processed, its previous ready version
-- keeps answering, so that version's bytes are kept too until the switch.
ALTER TABLE documents ADD COLUMN prev_blob_key TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE documents DROP COLUMN prev_blob_key;
