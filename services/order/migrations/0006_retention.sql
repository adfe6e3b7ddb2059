-- Retention removes carts abandoned long ago across shops, in platform scope: it may
-- see and remove them, never write one.
CREATE POLICY platform_retention ON carts
    USING (caravan_platform_scope()) WITH CHECK (false);
CREATE POLICY platform_retention ON cart_lines
    USING (caravan_platform_scope()) WITH CHECK (false);
-- Abandoned carts are found by their last change.
CREATE INDEX carts_abandoned ON carts (updated_at) WHERE order_id IS NULL;
