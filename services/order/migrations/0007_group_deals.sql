-- Group deals (拼团): a lower price on one variant for buyers who buy together. A
-- buyer opens a group by checking out at the group price; others join through its
-- share page; once `group_size` orders are paid the group forms and every order
-- ships, and a group short of that when its time runs out fails and every order is
-- refunded.

CREATE TABLE group_deals (
    id           uuid        PRIMARY KEY,
    tenant_id    uuid        NOT NULL,
    variant_id   uuid        NOT NULL,
    product_id   uuid        NOT NULL,
    -- The group price per currency: [{"amount": 1990, "currency": "CNY"}, ...].
    prices       jsonb       NOT NULL,
    group_size   integer     NOT NULL CHECK (group_size BETWEEN 2 AND 50),
    open_hours   integer     NOT NULL CHECK (open_hours BETWEEN 1 AND 72),
    -- Units the deal may sell in all, counting every order that holds or bought some.
    max_units    integer     NOT NULL CHECK (max_units >= 1),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    -- Set when staff end the deal early.
    ended_at     timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (ends_at > starts_at)
);
CREATE INDEX group_deals_listing ON group_deals (tenant_id, created_at DESC, id DESC);
CREATE INDEX group_deals_product ON group_deals (tenant_id, product_id);
SELECT caravan_enable_tenant_rls('group_deals');

CREATE TABLE groups (
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    deal_id     uuid        NOT NULL REFERENCES group_deals (id),
    status      text        NOT NULL CHECK (status IN ('forming', 'formed', 'failed')),
    -- The deal's size when the group opened.
    group_size  integer     NOT NULL CHECK (group_size BETWEEN 2 AND 50),
    expires_at  timestamptz NOT NULL,
    formed_at   timestamptz,
    failed_at   timestamptz,
    -- When every order of a failed group was cancelled and refunded.
    settled_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX groups_deal ON groups (tenant_id, deal_id, created_at DESC, id DESC);
-- The sweep finds groups whose time ran out, and failed groups with orders still
-- to cancel.
CREATE INDEX groups_due ON groups (expires_at) WHERE status = 'forming';
CREATE INDEX groups_failed ON groups (failed_at) WHERE status = 'failed' AND settled_at IS NULL;
SELECT caravan_enable_tenant_rls('groups');
-- The sweep picks due groups of every shop in platform scope; it only reads them
-- there, and handles each in its shop's scope.
CREATE POLICY platform_sweep ON groups FOR SELECT USING (caravan_platform_scope());

-- A group order is paid and waits for its group (`awaiting_group`) before it ships.
ALTER TABLE orders ADD COLUMN group_id uuid REFERENCES groups (id);
CREATE INDEX orders_group ON orders (group_id, created_at) WHERE group_id IS NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending_payment',
    'awaiting_group', 'paid', 'partially_fulfilled', 'fulfilled', 'delivered', 'cancelled',
    'expired', 'partially_refunded', 'refunded'));
