-- Every service's replica of the shops' status and plan quotas, kept from the tenant
-- service's events; the request guard reads it.
CREATE TABLE tenant_status (
    tenant_id            uuid        PRIMARY KEY,
    slug                 text        NOT NULL UNIQUE,
    status               text        NOT NULL,
    plan                 text        NOT NULL DEFAULT 'free',
    max_products         integer,
    max_staff            integer,
    max_orders_per_month integer,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
