-- The shops' slugs and statuses live in the shared replica (tenant_status) like in
-- every other service; auth's own copy goes, its rows carried over first.
SELECT set_config('app.scope', 'platform', true);
INSERT INTO tenant_status (tenant_id, slug, status, updated_at)
SELECT id, slug, status, updated_at FROM tenants
ON CONFLICT DO NOTHING;
DROP TABLE tenants;
