-- A payment attempt is recorded as `requested` in a short transaction of its own
-- before the gateway is asked; the gateway is asked with no transaction open and no
-- row locked, and its answer is recorded in a second transaction that looks at the
-- order again. At most one attempt of an order is in flight at a time, so two
-- payments of one order racing never both reach the gateway.
ALTER TABLE payment_authorisations DROP CONSTRAINT payment_authorisations_status_check;
ALTER TABLE payment_authorisations ADD CONSTRAINT payment_authorisations_status_check
    CHECK (status IN ('requested', 'pending', 'captured', 'declined', 'failed', 'voided'));
CREATE UNIQUE INDEX payment_authorisations_in_flight
    ON payment_authorisations (tenant_id, order_id) WHERE status = 'requested';
