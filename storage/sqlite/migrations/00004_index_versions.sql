-- +goose Up
-- Document versions in the index. A new version's chunks are written staged
-- (stored, not searchable: no FTS row, not in the dense cache) and published
-- in one transaction that also removes the older version's chunks.
-- content_hash lets a new version reuse the vectors of unchanged chunks.
-- Rows written before this migration are version 0, searchable, and have no
-- hash: the next version of their document embeds everything once.
ALTER TABLE index_chunks ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE index_chunks ADD COLUMN content_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE index_chunks ADD COLUMN staged INTEGER NOT NULL DEFAULT 0;

CREATE INDEX index_chunks_document_hash ON index_chunks (tenant, document_id, content_hash);

-- +goose Down
DROP INDEX index_chunks_document_hash;
ALTER TABLE index_chunks DROP COLUMN staged;
ALTER TABLE index_chunks DROP COLUMN content_hash;
ALTER TABLE index_chunks DROP COLUMN version;
