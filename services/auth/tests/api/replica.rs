//! The auth service keeps one replica of the shops, the shared one: the migration
//! that retires its own `tenants` table carries every shop's slug and status over.

use caravan_auth::migrations::Migrations;
use caravan_shared::db;
use caravan_shared::testing::{AllBut, TestDatabase};
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn retiring_the_tenants_table_keeps_every_shops_slug_and_status() {
    let database = TestDatabase::create::<AllBut<Migrations, 2>>("auth")
        .await
        .unwrap();
    let owner = db::connect(&database.owner_url, 1).await.unwrap();
    // One shop the replica knew already (on a plan), two only the old table knew.
    owner
        .execute_unprepared(
            "INSERT INTO tenant_status (tenant_id, slug, status, plan) VALUES \
                 ('0190d8a4-0000-7000-8000-000000000001', 'ningxia-goji', 'active', 'pro');
             INSERT INTO tenants (id, slug, status) VALUES \
                 ('0190d8a4-0000-7000-8000-000000000001', 'ningxia-goji', 'active'),
                 ('0190d8a4-0000-7000-8000-000000000002', 'turpan-raisins', 'suspended'),
                 ('0190d8a4-0000-7000-8000-000000000003', 'gansu-apples', 'closed');",
        )
        .await
        .unwrap();

    db::migrate::<Migrations>(&owner, "caravan_auth", database.name())
        .await
        .unwrap();

    let rows = owner
        .query_all_raw(db::statement(
            "SELECT slug || ' ' || status || ' ' || plan AS shop FROM tenant_status ORDER BY slug",
            vec![],
        ))
        .await
        .unwrap();
    let shops: Vec<String> = rows
        .iter()
        .map(|row| row.try_get("", "shop").unwrap())
        .collect();
    assert_eq!(
        shops,
        [
            "gansu-apples closed free",
            "ningxia-goji active pro",
            "turpan-raisins suspended free"
        ]
    );
    let old_table = owner
        .query_one_raw(db::statement(
            "SELECT to_regclass('tenants')::text AS found",
            vec![],
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        old_table.try_get::<Option<String>>("", "found").unwrap(),
        None
    );
}
