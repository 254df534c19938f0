-- +goose Up
-- Small stored document bytes (fetched web pages, short uploads): a row here
-- costs no file creation, where a blob file in the data dir would. Larger
-- blobs stay files; rows up to the threshold are TOASTed as usual.
CREATE TABLE blobs (
    key         TEXT        NOT NULL PRIMARY KEY,
    data        BYTEA       NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);

-- +goose Down
DROP TABLE blobs;
