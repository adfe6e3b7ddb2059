//! Row-level security, the second lock: every auth table with a `tenant_id` is under
//! it, and a shop's transaction sees none of another shop's sessions, nor anybody's
//! session outside a shop, even asking for them by hash.

use crate::helpers::{PASSWORD, spawn_app, unique_email, unique_slug};
use caravan_shared::TenantId;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::testing::{assert_every_tenant_table_forces_rls, count};
use sea_orm::ConnectionTrait;
use serde_json::json;

#[tokio::test]
async fn every_table_with_a_tenant_id_forces_row_level_security() {
    let auth = spawn_app().await;
    let tables = assert_every_tenant_table_forces_rls(&auth.app.database).await;
    for table in [
        "app_clients",
        "invitations",
        "memberships",
        "outbox",
        "refresh_tokens",
        "tenant_status",
    ] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
}

#[tokio::test]
async fn a_shops_transaction_sees_only_its_own_sessions_and_events() {
    let auth = spawn_app().await;
    let (a, _, a_tokens) = auth.shop_with_owner(&unique_slug("aksu")).await;
    let (b, _, b_tokens) = auth.shop_with_owner(&unique_slug("korla")).await;
    let customer = unique_email("buyer");
    auth.verified_user(&customer).await;
    let customer_tokens = auth.tokens(&customer, PASSWORD, None).await;

    // The paths that find a session before they know its shop still work: refresh
    // (a shop's session and one of no shop) and logout.
    for tokens in [&a_tokens, &customer_tokens] {
        let refreshed = auth
            .post(
                "/v1/auth/refresh",
                &json!({"refresh_token": tokens["refresh_token"]}),
            )
            .await;
        assert_eq!(refreshed.status(), 200);
    }
    let logout = auth
        .post(
            "/v1/auth/logout",
            &json!({"refresh_token": b_tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(logout.status(), 204);
    let after_logout = auth
        .post(
            "/v1/auth/refresh",
            &json!({"refresh_token": b_tokens["refresh_token"]}),
        )
        .await;
    assert_eq!(after_logout.status(), 401);

    let pool = caravan_shared::db::connect(&auth.app.database.runtime_url, 1)
        .await
        .unwrap();
    let tx = TenantTx::begin(&pool, TenantId::from(a)).await.unwrap();
    // No filter: only shop A's sessions (accepted, then refreshed).
    assert_eq!(
        count(tx.conn(), "SELECT count(*) AS n FROM refresh_tokens").await,
        2
    );
    assert_eq!(
        count(
            tx.conn(),
            &format!("SELECT count(*) AS n FROM refresh_tokens WHERE tenant_id = '{b}'")
        )
        .await,
        0
    );
    assert_eq!(
        count(
            tx.conn(),
            "SELECT count(*) AS n FROM refresh_tokens WHERE tenant_id IS NULL"
        )
        .await,
        0,
        "a customer's session belongs to no shop"
    );
    // Nor another shop's events or status row.
    assert!(count(tx.conn(), "SELECT count(*) AS n FROM outbox").await > 0);
    assert_eq!(
        count(
            tx.conn(),
            &format!("SELECT count(*) AS n FROM outbox WHERE tenant_id IS DISTINCT FROM '{a}'")
        )
        .await,
        0
    );
    assert_eq!(
        count(tx.conn(), "SELECT count(*) AS n FROM tenant_status").await,
        1
    );
    // A write for another shop is refused.
    let smuggled = tx
        .conn()
        .execute_unprepared(&format!(
            "UPDATE refresh_tokens SET tenant_id = '{b}' WHERE tenant_id = '{a}'"
        ))
        .await;
    assert!(smuggled.is_err());
    tx.rollback().await.unwrap();

    // Outside any scope, nothing at all.
    assert_eq!(
        count(&pool, "SELECT count(*) AS n FROM refresh_tokens").await,
        0
    );
    assert_eq!(count(&pool, "SELECT count(*) AS n FROM outbox").await, 0);
}
