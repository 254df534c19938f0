-- +goose Up
-- Administrative actions (key create, revoke, rotate; monitoring logins),
-- newest first by (at, id).
CREATE TABLE audit_log (
    id            TEXT    NOT NULL PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor_key_id  TEXT    NOT NULL DEFAULT '',
    actor_tenant  TEXT    NOT NULL DEFAULT '',
    action        TEXT    NOT NULL,
    target        TEXT    NOT NULL DEFAULT '',
    detail        TEXT    NOT NULL DEFAULT '',
    remote_addr   TEXT    NOT NULL DEFAULT '',
    request_id    TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at, id);

-- +goose Down
DROP TABLE audit_log;
