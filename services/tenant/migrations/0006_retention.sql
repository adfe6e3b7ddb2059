-- Retention removes webhook deliveries (with their attempts) finished long ago
-- across shops, in platform scope: it may see and remove them, never write one.
CREATE POLICY platform_retention ON webhook_deliveries
    USING (caravan_platform_scope()) WITH CHECK (false);
CREATE POLICY platform_retention ON webhook_attempts
    USING (caravan_platform_scope()) WITH CHECK (false);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (created_at) WHERE status <> 'pending';
