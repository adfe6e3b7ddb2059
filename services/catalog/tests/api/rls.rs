//! Row-level security, the second lock: every catalog table with a `tenant_id` is
//! under it; a shop's transaction sees none of another shop's events or status row,
//! while storefronts still find a shop by its slug.

use crate::helpers::{goji, shop, spawn_app};
use caravan_shared::TenantId;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::testing::{assert_every_tenant_table_forces_rls, count};
use sea_orm::ConnectionTrait;

#[tokio::test]
async fn every_table_with_a_tenant_id_forces_row_level_security() {
    let app = spawn_app().await;
    let tables = assert_every_tenant_table_forces_rls(&app.database).await;
    for table in [
        "categories",
        "media",
        "outbox",
        "products",
        "reservations",
        "stock_movements",
        "tenant_status",
        "variants",
    ] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
}

#[tokio::test]
async fn a_shops_transaction_sees_only_its_own_events_and_status() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let b = shop(&app, "active", None).await;
    for (shop, sku) in [(&a, "GOJI-A"), (&b, "GOJI-B")] {
        let created = app
            .post_with(&shop.owner, "/v1/products", &goji("goji", sku, 5))
            .await;
        assert_eq!(created.status(), 201);
        // The storefront finds each shop by its slug alone.
        let listed = app
            .client
            .get(app.url(&format!("/v1/shops/{}/products", shop.slug)))
            .send()
            .await
            .unwrap();
        assert_eq!(listed.status(), 200);
    }

    let pool = caravan_shared::db::connect(&app.database.runtime_url, 1)
        .await
        .unwrap();
    let tx = TenantTx::begin(&pool, TenantId::from(a.id)).await.unwrap();
    for table in ["outbox", "tenant_status"] {
        assert!(
            count(tx.conn(), &format!("SELECT count(*) AS n FROM {table}")).await > 0,
            "{table}"
        );
        assert_eq!(
            count(
                tx.conn(),
                &format!(
                    "SELECT count(*) AS n FROM {table} WHERE tenant_id IS DISTINCT FROM '{}'",
                    a.id
                )
            )
            .await,
            0,
            "{table} shows another shop's rows"
        );
    }
    let forged = tx
        .conn()
        .execute_unprepared(&format!(
            "UPDATE tenant_status SET status = 'suspended' WHERE tenant_id = '{}'",
            b.id
        ))
        .await
        .unwrap();
    assert_eq!(
        forged.rows_affected(),
        0,
        "another shop's row is out of reach"
    );
    tx.rollback().await.unwrap();
    for table in ["outbox", "tenant_status"] {
        assert_eq!(
            count(&pool, &format!("SELECT count(*) AS n FROM {table}")).await,
            0,
            "{table} outside any scope"
        );
    }
}
