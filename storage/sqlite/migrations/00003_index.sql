-- +goose Up
-- The embedded search index: chunk rows with their vectors, an FTS5 index
-- over their terms, and a per-tenant generation counter that tells every
-- process sharing this file when its in-memory vectors went stale.

-- rid is an explicit INTEGER PRIMARY KEY (a rowid alias) because index_fts
-- points at rows by rowid, and VACUUM may renumber implicit rowids.
CREATE TABLE index_chunks (
    rid         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    tenant      TEXT    NOT NULL,
    document_id TEXT    NOT NULL,
    idx         INTEGER NOT NULL DEFAULT 0,
    text        TEXT    NOT NULL,
    page        INTEGER NOT NULL DEFAULT 0,
    title       TEXT    NOT NULL DEFAULT '',
    source      TEXT    NOT NULL DEFAULT '',
    vector      BLOB    NOT NULL -- little-endian float32 × dim
);

CREATE INDEX index_chunks_tenant_document ON index_chunks (tenant, document_id);

-- Contentless: the index keeps only postings; rowid = index_chunks.rid.
-- terms holds retrieval.Tokenize(text) joined by spaces, so lexical search
-- and the rest of ragqueue agree on stemming and stop words; tenant_key is a
-- hash token of the tenant that narrows a MATCH to one tenant's postings.
-- The categories make every character of a ragqueue token a token character.
CREATE VIRTUAL TABLE index_fts USING fts5(
    tenant_key,
    terms,
    content = '',
    contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co Mn'"
);

CREATE TABLE index_generations (
    tenant TEXT    NOT NULL PRIMARY KEY,
    gen    INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE index_generations;
DROP TABLE index_fts;
DROP TABLE index_chunks;
