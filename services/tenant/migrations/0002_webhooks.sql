-- Webhooks: endpoints a shop registers, and the deliveries of its events to them.

CREATE TABLE webhook_endpoints (
    id              uuid        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    url             text        NOT NULL,
    events          text[]      NOT NULL,
    secret          text        NOT NULL,
    enabled         boolean     NOT NULL DEFAULT true,
    disabled_reason text,
    failing_since   timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id);
SELECT caravan_enable_tenant_rls('webhook_endpoints');

CREATE TABLE webhook_deliveries (
    id              uuid        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    endpoint_id     uuid        NOT NULL REFERENCES webhook_endpoints (id) ON DELETE CASCADE,
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    payload         jsonb       NOT NULL,
    status          text        NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,
    next_attempt_at timestamptz,
    delivered_at    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);
SELECT caravan_enable_tenant_rls('webhook_deliveries');

-- Every try, for the delivery log.
CREATE TABLE webhook_attempts (
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    delivery_id uuid        NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt     integer     NOT NULL,
    status_code integer,
    latency_ms  integer     NOT NULL,
    error       text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, attempt);
SELECT caravan_enable_tenant_rls('webhook_attempts');

-- The sender's queue across shops: which delivery of which shop is due. It holds no
-- secrets and no payloads; the sender reads those in the shop's own transaction.
CREATE TABLE webhook_jobs (
    delivery_id uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    due_at      timestamptz NOT NULL
);
CREATE INDEX webhook_jobs_due ON webhook_jobs (due_at);
