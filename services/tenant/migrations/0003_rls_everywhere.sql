-- Row-level security on the tenant service's tables with a tenant_id that were not
-- under it. Each follows caravan_tenant_or_platform (shared migration
-- m0000_caravan_rls_everywhere): a shop's transaction reaches that shop's rows, a
-- transaction in platform scope every row, any other none; a row of no shop is the
-- platform's.

-- Applications: a public application checks its slug against every open one, and
-- operators list and decide them, in platform scope. An application belongs to no
-- shop until approved (tenant_id NULL).
SELECT caravan_enable_platform_rls('applications');

-- The audit trail: a shop's changes are recorded in the shop's transaction (or in an
-- operator's platform scope as it opens the shop) and read in the shop's; decisions
-- on applications belong to no shop.
SELECT caravan_enable_platform_rls('audit_log');

-- The webhook sender's queue: a delivery is queued in its shop's transaction; the
-- sender picks the next due job of any shop in platform scope, then works in the
-- shop's scope.
SELECT caravan_enable_platform_rls('webhook_jobs');
