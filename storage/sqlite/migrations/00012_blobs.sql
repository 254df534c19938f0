-- +goose Up
-- Small stored document bytes (fetched web pages, short uploads): a row here
-- appends to the WAL, where a blob file would cost a file creation each.
-- Larger blobs stay files in the data dir. created_at is Unix nanoseconds.
CREATE TABLE blobs (
    key         TEXT    NOT NULL PRIMARY KEY,
    data        BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- +goose Down
DROP TABLE blobs;
