-- +goose Up
-- Embedding spaces in the embedded index (retrieval.Spaces): every chunk row,
-- FTS row and generation belongs to one space, so that a new embedder's
-- index can be built beside the one answering. index_live is the pointer
-- searches follow: one row, switched in one statement.
--
-- Data written before spaces existed came from the only embedder there was,
-- the hash embedder, at the dimension its vectors have: it becomes the space
-- "hash-<dim>" (embedder "hash:<dim>"), with sid 1, and is made live. Its FTS
-- rows keep their tenant tokens, which is why a space carries fts_salt: the
-- FTS token of a tenant in a space is a hash of fts_salt || tenant, and
-- only this adopted space has the empty salt.
CREATE TABLE index_spaces (
    sid      INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: caches key on it
    name     TEXT    NOT NULL UNIQUE,
    embedder TEXT    NOT NULL,
    dim      INTEGER NOT NULL CHECK (dim > 0),
    fts_salt TEXT    NOT NULL
);

CREATE TABLE index_live (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    sid INTEGER NOT NULL REFERENCES index_spaces (sid)
);

INSERT INTO index_spaces (sid, name, embedder, dim, fts_salt)
SELECT 1, 'hash-' || (length(vector) / 4), 'hash:' || (length(vector) / 4), length(vector) / 4, ''
FROM index_chunks LIMIT 1;
INSERT INTO index_live (one, sid) SELECT 1, sid FROM index_spaces;

-- Chunk IDs are unique within a space (the same chunk lives in the old and
-- the new space during a re-index). rid values are kept: index_fts points at
-- them.
CREATE TABLE index_chunks_spaced (
    rid          INTEGER PRIMARY KEY,
    space_id     INTEGER NOT NULL REFERENCES index_spaces (sid),
    id           TEXT    NOT NULL,
    tenant       TEXT    NOT NULL,
    document_id  TEXT    NOT NULL,
    idx          INTEGER NOT NULL DEFAULT 0,
    text         TEXT    NOT NULL,
    page         INTEGER NOT NULL DEFAULT 0,
    title        TEXT    NOT NULL DEFAULT '',
    source       TEXT    NOT NULL DEFAULT '',
    vector       BLOB    NOT NULL, -- little-endian float32 × dim
    version      INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT    NOT NULL DEFAULT '',
    staged       INTEGER NOT NULL DEFAULT 0,
    UNIQUE (space_id, id)
);
INSERT INTO index_chunks_spaced (rid, space_id, id, tenant, document_id, idx, text, page, title, source, vector, version, content_hash, staged)
SELECT rid, 1, id, tenant, document_id, idx, text, page, title, source, vector, version, content_hash, staged FROM index_chunks;
DROP TABLE index_chunks;
ALTER TABLE index_chunks_spaced RENAME TO index_chunks;
CREATE INDEX index_chunks_tenant_document ON index_chunks (space_id, tenant, document_id);
CREATE INDEX index_chunks_document_hash ON index_chunks (space_id, tenant, document_id, content_hash);

CREATE TABLE index_generations_spaced (
    space_id INTEGER NOT NULL,
    tenant   TEXT    NOT NULL,
    gen      INTEGER NOT NULL,
    PRIMARY KEY (space_id, tenant)
) WITHOUT ROWID;
INSERT INTO index_generations_spaced (space_id, tenant, gen)
SELECT 1, tenant, gen FROM index_generations WHERE EXISTS (SELECT 1 FROM index_spaces WHERE sid = 1);
DROP TABLE index_generations;
ALTER TABLE index_generations_spaced RENAME TO index_generations;

-- +goose Down
-- Back to one unnamed index: only the spaces whose FTS rows the old code can
-- find (the one adopted above) are kept; every other space is deleted.
DELETE FROM index_fts WHERE rowid IN (
    SELECT c.rid FROM index_chunks c JOIN index_spaces s ON s.sid = c.space_id
    WHERE s.fts_salt != '' AND c.staged = 0);
CREATE TABLE index_chunks_flat (
    rid          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    tenant       TEXT    NOT NULL,
    document_id  TEXT    NOT NULL,
    idx          INTEGER NOT NULL DEFAULT 0,
    text         TEXT    NOT NULL,
    page         INTEGER NOT NULL DEFAULT 0,
    title        TEXT    NOT NULL DEFAULT '',
    source       TEXT    NOT NULL DEFAULT '',
    vector       BLOB    NOT NULL,
    version      INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT    NOT NULL DEFAULT '',
    staged       INTEGER NOT NULL DEFAULT 0
);
INSERT INTO index_chunks_flat (rid, id, tenant, document_id, idx, text, page, title, source, vector, version, content_hash, staged)
SELECT c.rid, c.id, c.tenant, c.document_id, c.idx, c.text, c.page, c.title, c.source, c.vector, c.version, c.content_hash, c.staged
FROM index_chunks c JOIN index_spaces s ON s.sid = c.space_id WHERE s.fts_salt = '';
DROP TABLE index_chunks;
ALTER TABLE index_chunks_flat RENAME TO index_chunks;
CREATE INDEX index_chunks_tenant_document ON index_chunks (tenant, document_id);
CREATE INDEX index_chunks_document_hash ON index_chunks (tenant, document_id, content_hash);

CREATE TABLE index_generations_flat (
    tenant TEXT    NOT NULL PRIMARY KEY,
    gen    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO index_generations_flat (tenant, gen)
SELECT g.tenant, g.gen FROM index_generations g JOIN index_spaces s ON s.sid = g.space_id WHERE s.fts_salt = '';
DROP TABLE index_generations;
ALTER TABLE index_generations_flat RENAME TO index_generations;

DROP TABLE index_live;
DROP TABLE index_spaces;
