-- +goose Up
-- Embedding spaces in the embedded index (retrieval.Spaces): every chunk row,
-- FTS row and generation belongs to one space, so that a new embedder's
-- index can be built beside the one answering. index_live is the pointer
-- searches follow: one row, switched in one statement.
--
-- Data written before spaces existed came from the only embedder there was,
-- the hash embedder, at the dimension its vectors have: it becomes the space
-- "hash-<dim>" (embedder "hash:<dim>"), with sid 1, and is made live.
--
-- Lexical search now runs over an inverted index each process builds in
-- memory from index_chunks.text (beside the vectors it already kept there),
-- so the FTS5 table is dropped: nothing reads it any more, and keeping it
-- cost every write.
CREATE TABLE index_spaces (
    sid      INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused: caches key on it
    name     TEXT    NOT NULL UNIQUE,
    embedder TEXT    NOT NULL,
    dim      INTEGER NOT NULL CHECK (dim > 0)
);

CREATE TABLE index_live (
    one INTEGER PRIMARY KEY CHECK (one = 1),
    sid INTEGER NOT NULL REFERENCES index_spaces (sid)
);

INSERT INTO index_spaces (sid, name, embedder, dim)
SELECT 1, 'hash-' || (length(vector) / 4), 'hash:' || (length(vector) / 4), length(vector) / 4
FROM index_chunks LIMIT 1;
INSERT INTO index_live (one, sid) SELECT 1, sid FROM index_spaces;

DROP TABLE index_fts;

-- Chunk IDs are unique within a space (the same chunk lives in the old and
-- the new space during a re-index).
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
    gen          INTEGER NOT NULL DEFAULT 0, -- tenant generation of the last visible change
    UNIQUE (space_id, id)
);
INSERT INTO index_chunks_spaced (rid, space_id, id, tenant, document_id, idx, text, page, title, source, vector, version, content_hash, staged)
SELECT rid, 1, id, tenant, document_id, idx, text, page, title, source, vector, version, content_hash, staged FROM index_chunks;
DROP TABLE index_chunks;
ALTER TABLE index_chunks_spaced RENAME TO index_chunks;
CREATE INDEX index_chunks_tenant_document ON index_chunks (space_id, tenant, document_id);
CREATE INDEX index_chunks_document_hash ON index_chunks (space_id, tenant, document_id, content_hash);
CREATE INDEX index_chunks_tenant_gen ON index_chunks (space_id, tenant, gen);

-- A process holding a tenant at generation g catches up by reading the rows
-- changed after g (index_chunks.gen) and the chunks removed after g
-- (index_removed) instead of the whole tenant. Old removals are pruned;
-- pruned says up to which generation, and a process further behind reads
-- the whole tenant again.
CREATE TABLE index_generations_spaced (
    space_id INTEGER NOT NULL,
    tenant   TEXT    NOT NULL,
    gen      INTEGER NOT NULL,
    pruned   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (space_id, tenant)
) WITHOUT ROWID;
INSERT INTO index_generations_spaced (space_id, tenant, gen, pruned)
SELECT 1, tenant, gen, gen FROM index_generations WHERE EXISTS (SELECT 1 FROM index_spaces WHERE sid = 1);
DROP TABLE index_generations;
ALTER TABLE index_generations_spaced RENAME TO index_generations;

CREATE TABLE index_removed (
    space_id INTEGER NOT NULL,
    tenant   TEXT    NOT NULL,
    gen      INTEGER NOT NULL, -- the generation that removed the chunk
    id       TEXT    NOT NULL,
    PRIMARY KEY (space_id, tenant, gen, id)
) WITHOUT ROWID;

-- +goose Down
-- Back to one unnamed index holding the space adopted above (sid 1); every
-- other space is deleted. The FTS5 table comes back empty: the old code's
-- lexical search finds nothing until documents are re-indexed, since SQL
-- alone cannot tokenize text the way ragqueue does.
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
SELECT rid, id, tenant, document_id, idx, text, page, title, source, vector, version, content_hash, staged
FROM index_chunks WHERE space_id = 1;
DROP TABLE index_chunks;
ALTER TABLE index_chunks_flat RENAME TO index_chunks;
CREATE INDEX index_chunks_tenant_document ON index_chunks (tenant, document_id);
CREATE INDEX index_chunks_document_hash ON index_chunks (tenant, document_id, content_hash);

CREATE TABLE index_generations_flat (
    tenant TEXT    NOT NULL PRIMARY KEY,
    gen    INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO index_generations_flat (tenant, gen) SELECT tenant, gen FROM index_generations WHERE space_id = 1;
DROP TABLE index_generations;
ALTER TABLE index_generations_flat RENAME TO index_generations;

CREATE VIRTUAL TABLE index_fts USING fts5(
    tenant_key,
    terms,
    content = '',
    contentless_delete = 1,
    tokenize = "unicode61 remove_diacritics 0 categories 'L* N* Co Mn'"
);

DROP TABLE index_removed;
DROP TABLE index_live;
DROP TABLE index_spaces;
