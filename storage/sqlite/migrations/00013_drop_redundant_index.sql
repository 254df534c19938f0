-- +goose Up
-- index_chunks_document_hash (space_id, tenant, document_id, content_hash)
-- already serves every lookup by (space_id, tenant, document_id) as its
-- prefix; the shorter index only cost a b-tree write per chunk written.
DROP INDEX index_chunks_tenant_document;

-- +goose Down
CREATE INDEX index_chunks_tenant_document ON index_chunks (space_id, tenant, document_id);
