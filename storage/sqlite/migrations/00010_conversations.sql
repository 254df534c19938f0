-- +goose Up
-- Conversations (conversation_id on POST /v1/queries): turns per tenant and
-- conversation, and the answer cache: entries per tenant and embedding
-- space, the documents each entry cites (a change to one removes the
-- entry), and when a document last changed (so that an answer retrieved
-- before the change is not cached after it).
CREATE TABLE conversations (
    tenant     TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE TABLE conversation_turns (
    tenant          TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL,
    seq             INTEGER NOT NULL,
    question        TEXT    NOT NULL,
    standalone      TEXT    NOT NULL,
    answer          TEXT    NOT NULL,
    citations       TEXT    NOT NULL DEFAULT '[]',
    job_id          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (tenant, conversation_id, seq),
    UNIQUE (tenant, conversation_id, job_id),
    FOREIGN KEY (tenant, conversation_id) REFERENCES conversations (tenant, id) ON DELETE CASCADE
);
CREATE TABLE cache_entries (
    id         TEXT    NOT NULL PRIMARY KEY,
    tenant     TEXT    NOT NULL,
    space      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    question   TEXT    NOT NULL,
    vector     BLOB,
    result     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant, space, key)
);
CREATE INDEX cache_entries_tenant_created ON cache_entries (tenant, space, created_at);
CREATE TABLE cache_documents (
    entry_id    TEXT NOT NULL REFERENCES cache_entries (id) ON DELETE CASCADE,
    tenant      TEXT NOT NULL,
    document_id TEXT NOT NULL,
    PRIMARY KEY (entry_id, document_id)
);
CREATE INDEX cache_documents_document ON cache_documents (tenant, document_id);
CREATE TABLE cache_document_changes (
    tenant      TEXT    NOT NULL,
    document_id TEXT    NOT NULL,
    changed_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, document_id)
);

-- +goose Down
DROP TABLE cache_document_changes;
DROP TABLE cache_documents;
DROP TABLE cache_entries;
DROP TABLE conversation_turns;
DROP TABLE conversations;
