-- Row-level security on the order service's tables with a tenant_id that were not
-- under it.

-- The shops' facts: read and written only in the shop's own transaction (a new cart,
-- emails, and the handler of the tenant service's events, which scopes each event to
-- its shop).
SELECT caravan_enable_tenant_rls('shops');

-- Order deadlines: written and cleared in the shop's transaction; the expiry worker
-- picks the next passed deadline of any shop in platform scope (shared migration
-- m0000_caravan_rls_everywhere), then settles it in the shop's scope.
SELECT caravan_enable_platform_rls('order_deadlines');
