-- +goose Up
-- The event log. position is the global order ($all), handed out under a
-- table lock in commit order; (stream, version) the order within a stream.
-- data is the exact bytes the hash covers, hence bytea; the metadata has a
-- column per field, so "who did what" is a plain query.
CREATE TABLE events (
    position    bigint      PRIMARY KEY,
    id          text        NOT NULL UNIQUE,
    stream      text        NOT NULL,
    version     bigint      NOT NULL,
    type        text        NOT NULL,
    data        bytea       NOT NULL,
    actor          text NOT NULL DEFAULT '',
    on_behalf_of   text NOT NULL DEFAULT '',
    correlation_id text NOT NULL DEFAULT '',
    causation_id   text NOT NULL DEFAULT '',
    workflow_id    text NOT NULL DEFAULT '',
    run_id         text NOT NULL DEFAULT '',
    occurred_at    timestamptz,
    policy_hash    text NOT NULL DEFAULT '',
    reason         text NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL,
    prev_hash   bytea,
    hash        bytea       NOT NULL,
    UNIQUE (stream, version)
);

-- For people reading the log with psql: payloads as jsonb.
CREATE VIEW events_readable AS
SELECT position, stream, version, type,
       convert_from(data, 'UTF8')::jsonb AS data,
       actor, on_behalf_of, correlation_id, occurred_at, reason,
       recorded_at, encode(hash, 'hex') AS hash
FROM events;

-- +goose Down
DROP VIEW events_readable;
DROP TABLE events;
