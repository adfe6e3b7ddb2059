-- What every Caravan service database has: the tenant row-level-security helpers and
-- the idempotency store.

-- The tenant of the current transaction, or NULL outside a tenant transaction.
-- NULLIF: after a transaction-local set_config ends, the setting reads as '' rather
-- than NULL, and ''::uuid would fail.
CREATE OR REPLACE FUNCTION caravan_current_tenant() RETURNS uuid
LANGUAGE sql STABLE AS $$
    SELECT NULLIF(current_setting('app.tenant_id', true), '')::uuid
$$;

-- Puts a tenant-owned table under row-level security (see shared/src/tenancy.rs).
CREATE OR REPLACE FUNCTION caravan_enable_tenant_rls(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
    EXECUTE format(
        'CREATE POLICY tenant_isolation ON %s '
        'USING (tenant_id = caravan_current_tenant()) '
        'WITH CHECK (tenant_id = caravan_current_tenant())',
        target);
END
$$;

-- First answers to requests carrying an Idempotency-Key, saved in the same
-- transaction as the work they describe. `scope` keeps keys of different callers
-- and operations apart; the row is inserted before the work, so a concurrent retry
-- waits on the key's unique index until the first attempt commits or rolls back.
CREATE TABLE idempotency_keys (
    scope           text        NOT NULL,
    key             text        NOT NULL,
    request_hash    text        NOT NULL,
    response_status smallint,
    response_body   jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
