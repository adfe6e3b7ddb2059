-- Every authorisation a card gateway started for an order. A gateway's signed
-- notification changes an order only through one of these rows: its reference, the
-- order, the amount and the currency must all match, and it must still be pending.
-- A pending row is settled exactly once (the UPDATE names status = 'pending'), so a
-- repeated or concurrent notification never pays twice.
CREATE TABLE payment_authorisations (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL,
    order_id   uuid        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    provider   text        NOT NULL,
    -- Made by Caravan before the gateway is asked (unguessable); the gateway echoes it.
    reference  text        NOT NULL,
    amount     bigint      NOT NULL CHECK (amount >= 0),
    currency   text        NOT NULL,
    status     text        NOT NULL CHECK (status IN ('pending', 'captured', 'declined', 'failed', 'voided')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, provider, reference)
);
CREATE INDEX payment_authorisations_order ON payment_authorisations (tenant_id, order_id) WHERE status = 'pending';
SELECT caravan_enable_tenant_rls('payment_authorisations');
