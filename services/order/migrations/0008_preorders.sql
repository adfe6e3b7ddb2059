-- Harvest pre-orders (预售): a cooperative sells next season's harvest of a variant
-- before it is picked, up to an allocation, paid in full or by a deposit (定金)
-- with the balance due once the shop announces the harvest. Pre-orders hold no
-- stock: the allocation is what the harvest is promised to, counted here.

CREATE TABLE preorder_campaigns (
    id              uuid        PRIMARY KEY,
    tenant_id       uuid        NOT NULL,
    variant_id      uuid        NOT NULL,
    product_id      uuid        NOT NULL,
    -- Units the harvest is promised to, counting every pre-order not cancelled or
    -- let expire.
    allocation      integer     NOT NULL CHECK (allocation >= 1),
    ships_from      date        NOT NULL,
    -- The deposit per unit in each currency, as [Money]; NULL: paid in full.
    deposits        jsonb,
    -- Days buyers have to pay the balance once the harvest is announced.
    balance_days    integer     NOT NULL CHECK (balance_days BETWEEN 1 AND 60),
    -- What an unpaid balance costs the buyer: the deposit (`forfeit`) or nothing
    -- (`refund`).
    deposit_policy  text        NOT NULL CHECK (deposit_policy IN ('forfeit', 'refund')),
    status          text        NOT NULL CHECK (status IN ('open', 'harvested', 'called_off')),
    -- Sales close then (NULL: at the harvest).
    ends_at         timestamptz,
    harvested_at    timestamptz,
    balance_due_at  timestamptz,
    called_off_at   timestamptz,
    call_off_reason text,
    -- When the sweep found nothing left to settle after the balances' deadline or
    -- the call-off.
    settled_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX preorder_campaigns_listing ON preorder_campaigns (tenant_id, created_at DESC, id DESC);
CREATE INDEX preorder_campaigns_product ON preorder_campaigns (tenant_id, product_id);
-- The sweep finds harvests whose balances are past due, and harvests called off.
CREATE INDEX preorder_campaigns_due ON preorder_campaigns (balance_due_at)
    WHERE status = 'harvested' AND settled_at IS NULL;
CREATE INDEX preorder_campaigns_called_off ON preorder_campaigns (called_off_at)
    WHERE status = 'called_off' AND settled_at IS NULL;
SELECT caravan_enable_tenant_rls('preorder_campaigns');
CREATE POLICY platform_sweep ON preorder_campaigns FOR SELECT USING (caravan_platform_scope());

-- A pre-order is `preordered` once its deposit (or all of it) is paid, until the
-- harvest ships it.
ALTER TABLE orders ADD COLUMN preorder_campaign_id uuid REFERENCES preorder_campaigns (id);
-- What the first payment takes (NULL: the total).
ALTER TABLE orders ADD COLUMN deposit bigint CHECK (deposit > 0);
-- Set when the harvest is announced: the balance is due by then.
ALTER TABLE orders ADD COLUMN balance_due_at timestamptz;
-- The link of the balance-payment email opens the order with a token of its own.
ALTER TABLE orders ADD COLUMN balance_token_hash text;
ALTER TABLE orders ADD CONSTRAINT deposit_within_total CHECK (deposit IS NULL OR deposit < total);
CREATE INDEX orders_preorder ON orders (preorder_campaign_id, created_at) WHERE preorder_campaign_id IS NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check CHECK (status IN ('pending_payment',
    'awaiting_group', 'preordered', 'paid', 'partially_fulfilled', 'fulfilled', 'delivered',
    'cancelled', 'expired', 'partially_refunded', 'refunded'));
