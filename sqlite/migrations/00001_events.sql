-- +goose Up
-- The event log. position is the global order ($all); (stream, version) the
-- order within a stream. data is stored as the exact bytes the hash covers
-- (TEXT keeps it readable with SQLite's JSON functions); the metadata has a
-- column per field, so "who did what" is a plain query (a process's events are
-- its stream: stream = "<category>-<process id>").
CREATE TABLE events (
    position    INTEGER PRIMARY KEY,
    id          BLOB    NOT NULL UNIQUE, -- the UUID's 16 bytes: a smaller index
    stream      TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    actor          TEXT NOT NULL DEFAULT '',
    on_behalf_of   TEXT NOT NULL DEFAULT '',
    correlation_id TEXT NOT NULL DEFAULT '',
    causation_id   TEXT NOT NULL DEFAULT '',
    workflow_id    TEXT NOT NULL DEFAULT '',
    run_id         TEXT NOT NULL DEFAULT '',
    occurred_at    INTEGER,          -- Unix microseconds, UTC; NULL if not given
    policy_hash    TEXT NOT NULL DEFAULT '',
    reason         TEXT NOT NULL DEFAULT '',
    recorded_at INTEGER NOT NULL, -- Unix microseconds, UTC
    prev_hash   BLOB,
    hash        BLOB    NOT NULL,
    UNIQUE (stream, version)
);

-- +goose Down
DROP TABLE events;
