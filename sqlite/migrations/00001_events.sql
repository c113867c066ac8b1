-- +goose Up
-- The event log. position is the global order ($all); (stream, version) the
-- order within a stream. data and meta are stored as the exact bytes the hash
-- covers (TEXT keeps them readable with SQLite's JSON functions).
CREATE TABLE events (
    position    INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    stream      TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    type        TEXT    NOT NULL,
    data        TEXT    NOT NULL,
    meta        TEXT    NOT NULL,
    recorded_at INTEGER NOT NULL, -- Unix microseconds, UTC
    prev_hash   BLOB,
    hash        BLOB    NOT NULL,
    UNIQUE (stream, version)
);

-- +goose Down
DROP TABLE events;
