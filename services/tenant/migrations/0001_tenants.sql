-- Shops as businesses on the platform: plans, applications, tenants, their audit log.

CREATE TABLE plans (
    code                 text    PRIMARY KEY,
    name                 text    NOT NULL,
    max_products         integer,          -- NULL: unlimited
    max_staff            integer,
    max_orders_per_month integer,
    monthly_price_amount bigint  NOT NULL,
    monthly_price_currency text  NOT NULL,
    position             integer NOT NULL
);
INSERT INTO plans VALUES
    ('free',     'Free',     50,   2,  200,  0,     'CNY', 1),
    ('standard', 'Standard', 1000, 10, 5000, 29900, 'CNY', 2),
    ('pro',      'Pro',      NULL, 50, NULL, 99900, 'CNY', 3);

-- A cooperative's request for a shop, made without an account.
CREATE TABLE applications (
    id           uuid        PRIMARY KEY,
    shop_name    text        NOT NULL,
    slug         text        NOT NULL,
    region       text        NOT NULL,
    contact_name text        NOT NULL,
    email        text        NOT NULL,
    phone        text        NOT NULL,
    description  text        NOT NULL,
    status       text        NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    reason       text,
    tenant_id    uuid,
    decided_by   text,
    decided_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
-- One open application per slug; an approved one holds it through its tenant.
CREATE UNIQUE INDEX applications_pending_slug ON applications (slug) WHERE status = 'pending';
CREATE INDEX applications_status ON applications (status, id);

-- The shops. Platform data: operators see all; a shop's staff reach only their own
-- row, by the tenant id in their token.
CREATE TABLE tenants (
    id               uuid        PRIMARY KEY,
    slug             text        NOT NULL UNIQUE,
    name             text        NOT NULL,
    status           text        NOT NULL CHECK (status IN ('active', 'suspended', 'closed')),
    plan             text        NOT NULL REFERENCES plans (code),
    region           text        NOT NULL,
    owner_email      text        NOT NULL,
    description      jsonb       NOT NULL DEFAULT '{}',
    logo_url         text,
    contact_email    text,
    contact_phone    text,
    base_currency    text        NOT NULL DEFAULT 'CNY',
    currencies       text[]      NOT NULL DEFAULT '{CNY}',
    default_locale   text        NOT NULL DEFAULT 'zh-CN',
    locales          text[]      NOT NULL DEFAULT '{zh-CN}',
    timezone         text        NOT NULL DEFAULT 'Asia/Shanghai',
    ship_to          text[]      NOT NULL DEFAULT '{CN}',
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenants_status ON tenants (status, id);

-- Who changed what about a shop, when and why.
CREATE TABLE audit_log (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid,
    actor      text        NOT NULL,
    action     text        NOT NULL,
    reason     text,
    details    jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, id);
