//! The order service's schema, as SQL migrations applied in order at start.

use caravan_shared::db::{BASE_MIGRATION, ServiceMigrations, SqlMigration};
use caravan_shared::events::EVENTS_MIGRATION;
use caravan_shared::mail::MAIL_MIGRATION;
use caravan_shared::tenancy::RLS_EVERYWHERE_MIGRATION;
use caravan_shared::tenant_status::{
    SHOP_CHANGES_MIGRATION, SHOP_PROFILE_MIGRATION, TENANT_STATUS_MIGRATION,
};

/// Every migration of the order database, oldest first.
pub struct Migrations;

impl ServiceMigrations for Migrations {
    const LIST: &'static [SqlMigration] = &[
        BASE_MIGRATION,
        EVENTS_MIGRATION,
        TENANT_STATUS_MIGRATION,
        MAIL_MIGRATION,
        SqlMigration {
            name: "m0001_orders",
            sql: include_str!("../migrations/0001_orders.sql"),
        },
        SqlMigration {
            name: "m0002_payment_authorisations",
            sql: include_str!("../migrations/0002_payment_authorisations.sql"),
        },
        RLS_EVERYWHERE_MIGRATION,
        SqlMigration {
            name: "m0003_rls_everywhere",
            sql: include_str!("../migrations/0003_rls_everywhere.sql"),
        },
        SqlMigration {
            name: "m0004_payment_attempts_in_flight",
            sql: include_str!("../migrations/0004_payment_attempts_in_flight.sql"),
        },
        SHOP_PROFILE_MIGRATION,
        SHOP_CHANGES_MIGRATION,
        SqlMigration {
            name: "m0005_one_shop_replica",
            sql: include_str!("../migrations/0005_one_shop_replica.sql"),
        },
        SqlMigration {
            name: "m0006_retention",
            sql: include_str!("../migrations/0006_retention.sql"),
        },
        SqlMigration {
            name: "m0007_group_deals",
            sql: include_str!("../migrations/0007_group_deals.sql"),
        },
        SqlMigration {
            name: "m0008_preorders",
            sql: include_str!("../migrations/0008_preorders.sql"),
        },
    ];
}
