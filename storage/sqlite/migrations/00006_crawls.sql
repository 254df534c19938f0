-- +goose Up
-- Crawls (POST /v1/crawls) and finding a tenant's document by its source
-- URL, which is how crawled and asked-about pages are deduplicated.
CREATE TABLE crawls (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    job_id        TEXT    NOT NULL,
    status        TEXT    NOT NULL,
    spec          TEXT    NOT NULL,
    pages_fetched INTEGER NOT NULL DEFAULT 0,
    pages_failed  INTEGER NOT NULL DEFAULT 0,
    pages_blocked INTEGER NOT NULL DEFAULT 0,
    documents     TEXT    NOT NULL DEFAULT '[]',
    errors        TEXT    NOT NULL DEFAULT '[]',
    created_at    INTEGER NOT NULL,
    completed_at  INTEGER
);
CREATE INDEX crawls_tenant ON crawls (tenant, id);
CREATE INDEX crawls_unfinished ON crawls (created_at, id) WHERE status NOT IN ('succeeded', 'failed', 'canceled');
CREATE INDEX documents_tenant_source ON documents (tenant, source);

-- +goose Down
DROP INDEX documents_tenant_source;
DROP TABLE crawls;
