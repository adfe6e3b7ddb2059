-- What a cooperative sells: categories, products, variants with stock, the stock
-- ledger and reservations. Every table is tenant-owned and under row-level security.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

CREATE TABLE categories (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL,
    handle     text        NOT NULL,
    name       jsonb       NOT NULL,
    parent_id  uuid        REFERENCES categories (id) ON DELETE SET NULL,
    position   integer     NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, handle)
);
SELECT caravan_enable_tenant_rls('categories');

CREATE TABLE products (
    id              uuid        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    handle          text        NOT NULL,
    title           jsonb       NOT NULL,
    description     jsonb       NOT NULL DEFAULT '{}',
    status          text        NOT NULL CHECK (status IN ('draft', 'active', 'archived')),
    category_ids    uuid[]      NOT NULL DEFAULT '{}',
    tags            text[]      NOT NULL DEFAULT '{}',
    images          jsonb       NOT NULL DEFAULT '[]',
    origin          jsonb       NOT NULL DEFAULT '{}',
    producer        text,
    harvest_months  integer[]   NOT NULL DEFAULT '{}',
    shelf_life_days integer     CHECK (shelf_life_days IS NULL OR shelf_life_days > 0),
    storage         text        CHECK (storage IN ('ambient', 'chilled', 'frozen')),
    certifications  text[]      NOT NULL DEFAULT '{}',
    -- Every title, description and tag, lowercased: what search matches against.
    search_text     text        NOT NULL DEFAULT '',
    -- The lowest base price of its variants, for sorting and price filters.
    min_price       bigint      NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, handle)
);
CREATE INDEX products_listing ON products (tenant_id, status, id);
CREATE INDEX products_search ON products USING gin (search_text gin_trgm_ops);
SELECT caravan_enable_tenant_rls('products');

CREATE TABLE variants (
    id                  uuid        PRIMARY KEY,
    tenant_id           uuid        NOT NULL,
    product_id          uuid        NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    sku                 text        NOT NULL,
    title               jsonb       NOT NULL DEFAULT '{}',
    options             jsonb       NOT NULL DEFAULT '{}',
    unit                text        NOT NULL CHECK (unit IN ('kg', 'g', 'piece', 'box')),
    weight_grams        integer     NOT NULL CHECK (weight_grams >= 0),
    -- Money in every currency the variant is priced in; the first is the base price.
    prices              jsonb       NOT NULL,
    base_price          bigint      NOT NULL CHECK (base_price >= 0),
    compare_at_price    jsonb,
    track_stock         boolean     NOT NULL DEFAULT true,
    on_hand             integer     NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved            integer     NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    low_stock_threshold integer     NOT NULL DEFAULT 0 CHECK (low_stock_threshold >= 0),
    position            integer     NOT NULL DEFAULT 0,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, sku),
    -- The backstop against overselling: reservations never exceed what is on hand.
    CONSTRAINT stock_available CHECK (NOT track_stock OR reserved <= on_hand)
);
CREATE INDEX variants_product ON variants (product_id, position);
SELECT caravan_enable_tenant_rls('variants');

-- Every change of stock on hand, with its reason.
CREATE TABLE stock_movements (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL,
    variant_id uuid        NOT NULL REFERENCES variants (id) ON DELETE CASCADE,
    delta      integer     NOT NULL,
    on_hand    integer     NOT NULL,
    reason     text        NOT NULL CHECK (reason IN ('received', 'damaged', 'correction', 'sale', 'initial', 'import')),
    note       text,
    actor      text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX stock_movements_variant ON stock_movements (variant_id, id);
SELECT caravan_enable_tenant_rls('stock_movements');

-- Stock held for orders: one row per order and variant.
CREATE TABLE reservations (
    tenant_id  uuid        NOT NULL,
    order_id   uuid        NOT NULL,
    variant_id uuid        NOT NULL REFERENCES variants (id),
    quantity   integer     NOT NULL CHECK (quantity > 0),
    status     text        NOT NULL CHECK (status IN ('held', 'committed', 'released')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, order_id, variant_id)
);
CREATE INDEX reservations_variant ON reservations (variant_id);
SELECT caravan_enable_tenant_rls('reservations');
