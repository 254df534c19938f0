-- +goose Up
-- Metadata: the source of truth for documents, their chunk text, jobs and API
-- keys. Timestamps are INTEGER unix nanoseconds (UTC), truncated to
-- microseconds by the store so that SQLite and PostgreSQL agree. JSON columns
-- are TEXT holding valid JSON (the store checks it).

CREATE TABLE documents (
    id           TEXT    NOT NULL PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    title        TEXT    NOT NULL DEFAULT '',
    source       TEXT    NOT NULL DEFAULT '',
    content_type TEXT    NOT NULL DEFAULT '',
    sha256       TEXT    NOT NULL,
    size         INTEGER NOT NULL DEFAULT 0,
    blob_key     TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL,
    error        TEXT    NOT NULL DEFAULT '',
    pages        INTEGER NOT NULL DEFAULT 0,
    chunks       INTEGER NOT NULL DEFAULT 0,
    version      INTEGER NOT NULL DEFAULT 1,
    job_id       TEXT    NOT NULL DEFAULT '',
    metadata     TEXT    NOT NULL DEFAULT '{}',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (tenant, sha256)
);
-- Listing, newest first, with and without a status filter.
CREATE INDEX documents_tenant_created ON documents (tenant, created_at DESC, id DESC);
CREATE INDEX documents_tenant_status_created ON documents (tenant, status, created_at DESC, id DESC);
-- The reconciler's scan of unfinished documents.
CREATE INDEX documents_unfinished ON documents (created_at, id) WHERE status IN ('queued', 'processing');

CREATE TABLE chunks (
    id          TEXT    NOT NULL PRIMARY KEY,
    tenant      TEXT    NOT NULL,
    document_id TEXT    NOT NULL REFERENCES documents (id) ON DELETE CASCADE,
    version     INTEGER NOT NULL,
    idx         INTEGER NOT NULL,
    text        TEXT    NOT NULL,
    page        INTEGER NOT NULL DEFAULT 0,
    section     TEXT    NOT NULL DEFAULT '',
    UNIQUE (document_id, version, idx)
);

CREATE TABLE jobs (
    id           TEXT    NOT NULL PRIMARY KEY,
    tenant       TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    state        TEXT    NOT NULL,
    progress     TEXT,
    result       TEXT,
    error        TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    completed_at INTEGER
);
CREATE INDEX jobs_unfinished ON jobs (created_at, id) WHERE state NOT IN ('succeeded', 'failed', 'canceled');

CREATE TABLE api_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    tenant     TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE,
    prefix     TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE jobs;
DROP TABLE chunks;
DROP TABLE documents;
