-- The event backbone's tables (see shared/src/events): the outbox this service
-- publishes from, and what it has consumed from other services.

-- Events written in the same transaction as the state change they describe.
-- `position` orders inserts; `seq` is assigned by the relay after commit, in one
-- gap-free run, so consumers can tell a missed event from a duplicate.
CREATE TABLE outbox (
    position     bigserial   PRIMARY KEY,
    seq          bigint      UNIQUE,
    id           uuid        NOT NULL UNIQUE,
    event_type   text        NOT NULL,
    tenant_id    uuid,
    data         jsonb       NOT NULL,
    occurred_at  timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz
);
CREATE INDEX outbox_unsequenced ON outbox (position) WHERE seq IS NULL;
CREATE INDEX outbox_unpublished ON outbox (seq) WHERE seq IS NOT NULL AND published_at IS NULL;

-- Wakes the relay when a transaction that wrote events commits (NOTIFY is delivered
-- on commit and dropped on rollback).
CREATE FUNCTION caravan_outbox_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('caravan_outbox', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION caravan_outbox_notify();

-- The last sequence number handled per producer, moved in the handler's transaction.
CREATE TABLE event_offsets (
    producer   text        PRIMARY KEY,
    last_seq   bigint      NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Events whose handler kept failing: kept for inspection and re-sending, not lost.
CREATE TABLE parked_events (
    producer    text        NOT NULL,
    seq         bigint      NOT NULL,
    event_id    uuid        NOT NULL,
    event_type  text        NOT NULL,
    envelope    jsonb       NOT NULL,
    error       text        NOT NULL,
    attempts    integer     NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz,
    PRIMARY KEY (producer, seq)
);
