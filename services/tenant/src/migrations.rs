//! The tenant service's schema, as SQL migrations applied in order at start.

use caravan_shared::db::{BASE_MIGRATION, ServiceMigrations, SqlMigration};
use caravan_shared::events::EVENTS_MIGRATION;
use caravan_shared::mail::MAIL_MIGRATION;
use caravan_shared::tenancy::RLS_EVERYWHERE_MIGRATION;
use caravan_shared::tenant_status::{
    SHOP_CHANGES_MIGRATION, SHOP_PROFILE_MIGRATION, TENANT_STATUS_MIGRATION,
};

/// Every migration of the tenant database, oldest first.
pub struct Migrations;

impl ServiceMigrations for Migrations {
    const LIST: &'static [SqlMigration] = &[
        BASE_MIGRATION,
        EVENTS_MIGRATION,
        TENANT_STATUS_MIGRATION,
        MAIL_MIGRATION,
        SqlMigration {
            name: "m0001_tenants",
            sql: include_str!("../migrations/0001_tenants.sql"),
        },
        SqlMigration {
            name: "m0002_webhooks",
            sql: include_str!("../migrations/0002_webhooks.sql"),
        },
        RLS_EVERYWHERE_MIGRATION,
        SqlMigration {
            name: "m0003_rls_everywhere",
            sql: include_str!("../migrations/0003_rls_everywhere.sql"),
        },
        SqlMigration {
            name: "m0004_theme",
            sql: include_str!("../migrations/0004_theme.sql"),
        },
        SqlMigration {
            name: "m0005_applications_languages",
            sql: include_str!("../migrations/0005_applications_languages.sql"),
        },
        SHOP_PROFILE_MIGRATION,
        SHOP_CHANGES_MIGRATION,
        SqlMigration {
            name: "m0006_retention",
            sql: include_str!("../migrations/0006_retention.sql"),
        },
    ];
}
