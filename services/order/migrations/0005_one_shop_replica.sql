-- The shops' names, contacts, currencies and languages live in the shared replica
-- (tenant_status, extended by m0000_caravan_shop_profile); the order service's own
-- copy goes, its facts carried over first.
SELECT set_config('app.scope', 'platform', true);
INSERT INTO tenant_status (tenant_id, slug, status, updated_at)
SELECT tenant_id, slug, 'active', updated_at FROM shops
ON CONFLICT DO NOTHING;
UPDATE tenant_status AS replica SET
    name = shops.name,
    owner_email = shops.owner_email,
    contact_email = shops.contact_email,
    base_currency = shops.base_currency,
    currencies = shops.currencies,
    default_locale = shops.default_locale,
    locales = shops.locales
FROM shops
WHERE shops.tenant_id = replica.tenant_id;
DROP TABLE shops;
