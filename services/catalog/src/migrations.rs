//! The catalog service's schema, as SQL migrations applied in order at start.

use caravan_shared::db::{BASE_MIGRATION, ServiceMigrations, SqlMigration};
use caravan_shared::events::EVENTS_MIGRATION;
use caravan_shared::tenancy::RLS_EVERYWHERE_MIGRATION;
use caravan_shared::tenant_status::{
    SHOP_CHANGES_MIGRATION, SHOP_PROFILE_MIGRATION, TENANT_STATUS_MIGRATION,
};

/// Every migration of the catalog database, oldest first.
pub struct Migrations;

impl ServiceMigrations for Migrations {
    const LIST: &'static [SqlMigration] = &[
        BASE_MIGRATION,
        EVENTS_MIGRATION,
        TENANT_STATUS_MIGRATION,
        SqlMigration {
            name: "m0001_catalog",
            sql: include_str!("../migrations/0001_catalog.sql"),
        },
        SqlMigration {
            name: "m0002_returns",
            sql: include_str!("../migrations/0002_returns.sql"),
        },
        RLS_EVERYWHERE_MIGRATION,
        SqlMigration {
            name: "m0003_media",
            sql: include_str!("../migrations/0003_media.sql"),
        },
        SHOP_PROFILE_MIGRATION,
        SHOP_CHANGES_MIGRATION,
        SqlMigration {
            name: "m0004_storefront_changes",
            sql: include_str!("../migrations/0004_storefront_changes.sql"),
        },
        SqlMigration {
            name: "m0005_reservation_in_one_statement",
            sql: include_str!("../migrations/0005_reservation_in_one_statement.sql"),
        },
        SqlMigration {
            name: "m0006_sellable_in_one_statement",
            sql: include_str!("../migrations/0006_sellable_in_one_statement.sql"),
        },
    ];
}
