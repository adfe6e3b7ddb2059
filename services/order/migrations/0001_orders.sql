-- Carts, orders, payments, fulfilments and shipping zones. Tenant-owned tables are
-- under row-level security; `shops` and `order_deadlines` hold no buyer data and are
-- read across shops by background work.

-- What the order service knows of each shop, kept from the tenant service's events.
CREATE TABLE shops (
    tenant_id      uuid        PRIMARY KEY,
    slug           text        NOT NULL,
    name           text        NOT NULL DEFAULT '',
    owner_email    text,
    contact_email  text,
    base_currency  text        NOT NULL DEFAULT 'CNY',
    currencies     text[]      NOT NULL DEFAULT '{CNY}',
    default_locale text        NOT NULL DEFAULT 'zh-CN',
    locales        text[]      NOT NULL DEFAULT '{zh-CN}',
    updated_at     timestamptz NOT NULL DEFAULT now()
);

-- A shop's checkout settings.
CREATE TABLE order_settings (
    tenant_id              uuid        PRIMARY KEY,
    payment_window_minutes integer     NOT NULL DEFAULT 30 CHECK (payment_window_minutes BETWEEN 5 AND 10080),
    bank_transfer_details  text,
    notify_email           text,
    updated_at             timestamptz NOT NULL DEFAULT now()
);
SELECT caravan_enable_tenant_rls('order_settings');

CREATE TABLE shipping_zones (
    id                      uuid        PRIMARY KEY,
    tenant_id               uuid        NOT NULL,
    name                    text        NOT NULL,
    countries               text[]      NOT NULL,
    -- Empty: the whole of every listed country.
    provinces               text[]      NOT NULL DEFAULT '{}',
    currency                text        NOT NULL,
    free_shipping_threshold bigint      CHECK (free_shipping_threshold IS NULL OR free_shipping_threshold >= 0),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipping_zones_tenant ON shipping_zones (tenant_id, id);
SELECT caravan_enable_tenant_rls('shipping_zones');

CREATE TABLE shipping_rates (
    id               uuid    PRIMARY KEY,
    tenant_id        uuid    NOT NULL,
    zone_id          uuid    NOT NULL REFERENCES shipping_zones (id) ON DELETE CASCADE,
    name             text    NOT NULL,
    min_weight_grams integer NOT NULL CHECK (min_weight_grams >= 0),
    -- NULL: no upper bound.
    max_weight_grams integer CHECK (max_weight_grams IS NULL OR max_weight_grams > min_weight_grams),
    price            bigint  NOT NULL CHECK (price >= 0),
    position         integer NOT NULL
);
CREATE INDEX shipping_rates_zone ON shipping_rates (zone_id, position);
SELECT caravan_enable_tenant_rls('shipping_rates');

CREATE TABLE carts (
    id          uuid        PRIMARY KEY,
    tenant_id   uuid        NOT NULL,
    -- SHA-256 of the guest's cart token; the token itself is only ever shown once.
    token_hash  text        NOT NULL,
    customer_id text,
    currency    text        NOT NULL,
    locale      text        NOT NULL,
    order_id    uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX carts_customer ON carts (tenant_id, customer_id) WHERE customer_id IS NOT NULL;
SELECT caravan_enable_tenant_rls('carts');

CREATE TABLE cart_lines (
    cart_id    uuid        NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    tenant_id  uuid        NOT NULL,
    variant_id uuid        NOT NULL,
    quantity   integer     NOT NULL CHECK (quantity BETWEEN 1 AND 10000),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, variant_id)
);
SELECT caravan_enable_tenant_rls('cart_lines');

-- The last order number given per shop. Taking the next one locks the shop's row
-- until the order's transaction ends, and a rollback gives the number back: numbers
-- are sequential with no gaps and no duplicates, whatever the concurrency.
CREATE TABLE order_counters (
    tenant_id   uuid   PRIMARY KEY,
    last_number bigint NOT NULL DEFAULT 1000
);
SELECT caravan_enable_tenant_rls('order_counters');

CREATE TABLE orders (
    id                uuid        PRIMARY KEY,
    tenant_id         uuid        NOT NULL,
    number            bigint      NOT NULL,
    status            text        NOT NULL CHECK (status IN ('pending_payment', 'paid', 'partially_fulfilled',
                          'fulfilled', 'delivered', 'cancelled', 'expired', 'partially_refunded', 'refunded')),
    currency          text        NOT NULL,
    locale            text        NOT NULL,
    email             text        NOT NULL,
    phone             text        NOT NULL,
    customer_id       text,
    cart_id           uuid        NOT NULL,
    shipping_address  jsonb       NOT NULL,
    shipping_rate     jsonb       NOT NULL,
    note              text,
    subtotal          bigint      NOT NULL CHECK (subtotal >= 0),
    shipping          bigint      NOT NULL CHECK (shipping >= 0),
    total             bigint      NOT NULL CHECK (total >= 0),
    paid              bigint      NOT NULL DEFAULT 0,
    refunded          bigint      NOT NULL DEFAULT 0,
    access_token_hash text        NOT NULL,
    payment_provider  text,
    expires_at        timestamptz NOT NULL,
    paid_at           timestamptz,
    cancelled_at      timestamptz,
    cancel_reason     text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, number),
    -- Money can only be refunded once it was paid, and never more.
    CONSTRAINT refund_within_paid CHECK (refunded >= 0 AND refunded <= paid),
    CONSTRAINT paid_within_total CHECK (paid >= 0 AND paid <= total)
);
CREATE INDEX orders_listing ON orders (tenant_id, created_at DESC, id DESC);
CREATE INDEX orders_customer ON orders (tenant_id, customer_id, created_at DESC) WHERE customer_id IS NOT NULL;
CREATE UNIQUE INDEX orders_cart ON orders (tenant_id, cart_id);
SELECT caravan_enable_tenant_rls('orders');

CREATE TABLE order_lines (
    id                 uuid    PRIMARY KEY,
    tenant_id          uuid    NOT NULL,
    order_id           uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    position           integer NOT NULL,
    variant_id         uuid    NOT NULL,
    product_id         uuid    NOT NULL,
    sku                text    NOT NULL,
    product_title      jsonb   NOT NULL,
    variant_title      jsonb   NOT NULL,
    unit_price         bigint  NOT NULL CHECK (unit_price >= 0),
    quantity           integer NOT NULL CHECK (quantity > 0),
    line_total         bigint  NOT NULL CHECK (line_total >= 0),
    weight_grams       integer NOT NULL,
    fulfilled_quantity integer NOT NULL DEFAULT 0,
    CONSTRAINT fulfilled_within_ordered CHECK (fulfilled_quantity BETWEEN 0 AND quantity)
);
CREATE INDEX order_lines_order ON order_lines (order_id, position);
SELECT caravan_enable_tenant_rls('order_lines');

-- Every movement of money: payments in, refunds out.
CREATE TABLE payments (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL,
    order_id   uuid        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    provider   text        NOT NULL,
    kind       text        NOT NULL CHECK (kind IN ('payment', 'refund')),
    status     text        NOT NULL CHECK (status IN ('succeeded', 'declined', 'failed', 'pending')),
    amount     bigint      NOT NULL CHECK (amount >= 0),
    reference  text,
    detail     text,
    actor      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_order ON payments (order_id, created_at);
SELECT caravan_enable_tenant_rls('payments');

CREATE TABLE fulfillments (
    id              uuid        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    order_id        uuid        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    carrier         text        NOT NULL,
    tracking_number text        NOT NULL,
    lines           jsonb       NOT NULL,
    actor           text        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX fulfillments_order ON fulfillments (order_id, created_at);
SELECT caravan_enable_tenant_rls('fulfillments');

-- Who did what to an order, and when.
CREATE TABLE order_timeline (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL,
    order_id   uuid        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    actor      text        NOT NULL,
    action     text        NOT NULL,
    detail     jsonb       NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_timeline_order ON order_timeline (order_id, id);
SELECT caravan_enable_tenant_rls('order_timeline');

-- When an order's stock is held until: written before the catalog is asked to
-- reserve, so a reservation whose order never got written (a crash mid-checkout)
-- is still released, and an unpaid order expires on time.
CREATE TABLE order_deadlines (
    order_id  uuid        PRIMARY KEY,
    tenant_id uuid        NOT NULL,
    due_at    timestamptz NOT NULL
);
CREATE INDEX order_deadlines_due ON order_deadlines (due_at);
