-- Row-level security on the shared tables that carry a tenant_id (the outbox and the
-- shops' status replica), and platform scope: the explicit opt-in of code that works
-- across shops. Listed after EVENTS_MIGRATION and TENANT_STATUS_MIGRATION.

-- Whether the current transaction opted in to work across shops. Only
-- `PlatformTx::begin`, `PlatformScope::enter` and `enter_platform_session`
-- (shared/src/tenancy.rs) set it, each with the reason at the call site: the outbox
-- relay and event feed, background workers picking due jobs, operators' work on
-- applications and new shops. Entering a tenant clears it, and entering it clears
-- the tenant, so a transaction is in one scope at a time.
CREATE FUNCTION caravan_platform_scope() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('app.scope', true), '') = 'platform'
$$;

-- The rule of a tenant-owned table that platform work reaches too: a shop's
-- transaction sees and writes that shop's rows only, a transaction in platform scope
-- every row, any other transaction none. A row of no shop (tenant_id NULL) is the
-- platform's: only platform scope reaches it.
CREATE FUNCTION caravan_tenant_or_platform(row_tenant uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(row_tenant = caravan_current_tenant(), false) OR caravan_platform_scope()
$$;

-- Puts a tenant-owned table that platform work reaches under that rule: enabled,
-- forced on the owner too, one policy for reads and writes.
CREATE FUNCTION caravan_enable_platform_rls(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
    EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
    EXECUTE format(
        'CREATE POLICY tenant_or_platform ON %s '
        'USING (caravan_tenant_or_platform(tenant_id)) '
        'WITH CHECK (caravan_tenant_or_platform(tenant_id))',
        target);
END
$$;

-- The outbox: a shop's transaction appends that shop's events; the relay and the
-- feed, in platform scope, number, read and publish every event.
SELECT caravan_enable_platform_rls('outbox');
-- An event about no shop (`user.registered`) may be appended by any transaction that
-- is not a shop's: it discloses nothing of a shop, and only platform scope reads it.
CREATE POLICY event_of_no_shop ON outbox FOR INSERT
    WITH CHECK (tenant_id IS NULL AND caravan_current_tenant() IS NULL);

-- The shops' status replica: a shop's transaction reads its own row (the staff guard,
-- quota checks) and writes it (the event handler that keeps it); the tenant service
-- opening a shop writes it in platform scope.
SELECT caravan_enable_platform_rls('tenant_status');
-- A storefront request knows only the shop's slug: it names it (`app.shop_slug`,
-- set by `tenant_status::storefront`) and sees that one row, for reading only.
CREATE POLICY storefront_by_slug ON tenant_status FOR SELECT
    USING (slug = NULLIF(current_setting('app.shop_slug', true), ''));
