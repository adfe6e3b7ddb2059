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

#[tokio::test]
async fn the_variants_read_for_carts_answers_only_the_named_shops_variants() {
    let app = spawn_app().await;
    let a = shop(&app, "active", None).await;
    let b = shop(&app, "active", None).await;
    let mut variants = Vec::new();
    for (owner, sku) in [(&a.owner, "SELL-A"), (&b.owner, "SELL-B")] {
        let product: serde_json::Value = app
            .post_with(owner, "/v1/products", &goji(&sku.to_lowercase(), sku, 7))
            .await
            .json()
            .await
            .unwrap();
        variants.push(product["variants"][0]["id"].as_str().unwrap().to_owned());
    }
    let service = app.keys.service("order");
    let ids = variants.join(",");
    for (tenant, own, other) in [
        (a.id, &variants[0], &variants[1]),
        (b.id, &variants[1], &variants[0]),
    ] {
        let answer: serde_json::Value = app
            .get_with(
                &service,
                &format!("/internal/v1/variants?tenant_id={tenant}&ids={ids}"),
            )
            .await
            .json()
            .await
            .unwrap();
        let items = answer["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{answer}");
        assert_eq!(items[0]["variant_id"], own.as_str());
        assert_eq!(items[0]["available"], 7);
        assert_eq!(items[0]["prices"][0]["currency"], "CNY");
        assert!(!answer.to_string().contains(other.as_str()));
    }
}
