-- +goose Up
-- The event log. position is the global order ($all), handed out under a
-- table lock in commit order; (stream, version) the order within a stream.
-- data and meta are the exact bytes the hash covers, hence bytea.
CREATE TABLE events (
    position    bigint      PRIMARY KEY,
    id          text        NOT NULL UNIQUE,
    stream      text        NOT NULL,
    version     bigint      NOT NULL,
    type        text        NOT NULL,
    data        bytea       NOT NULL,
    meta        bytea       NOT NULL,
    recorded_at timestamptz NOT NULL,
    prev_hash   bytea,
    hash        bytea       NOT NULL,
    UNIQUE (stream, version)
);

-- For people reading the log with psql: payloads as jsonb.
CREATE VIEW events_readable AS
SELECT position, stream, version, type,
       convert_from(data, 'UTF8')::jsonb AS data,
       convert_from(meta, 'UTF8')::jsonb AS meta,
       recorded_at, encode(hash, 'hex') AS hash
FROM events;

-- +goose Down
DROP VIEW events_readable;
DROP TABLE events;
