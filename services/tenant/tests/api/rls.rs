//! Row-level security, the second lock: every tenant-service table with a
//! `tenant_id` is under it; a shop's transaction sees none of another shop's audit
//! trail, events, status or webhook jobs, and none of the platform's applications,
//! while operators' work across shops (platform scope) still reaches them.

use crate::helpers::{application, spawn_platform, unique, unique_email};
use caravan_shared::TenantId;
use caravan_shared::tenancy::{PlatformTx, TenantTx};
use caravan_shared::testing::{assert_every_tenant_table_forces_rls, count};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn every_table_with_a_tenant_id_forces_row_level_security() {
    let platform = spawn_platform().await;
    let tables = assert_every_tenant_table_forces_rls(&platform.tenant.database).await;
    for table in [
        "applications",
        "audit_log",
        "outbox",
        "tenant_status",
        "webhook_attempts",
        "webhook_deliveries",
        "webhook_endpoints",
        "webhook_jobs",
    ] {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
}

#[tokio::test]
async fn a_shops_transaction_sees_only_its_own_rows_and_operators_see_all() {
    let platform = spawn_platform().await;
    let (a, _, _, _) = platform.live_shop("aksu").await;
    let (b, _, _, _) = platform.live_shop("korla").await;
    let suspended = platform
        .post_with(
            Some(&platform.operator),
            &format!("/v1/tenants/{b}/suspend"),
            &json!({"reason": "fraud review"}),
        )
        .await;
    assert_eq!(suspended.status(), 200);
    // An application still pending, and one rejected: the platform's, of no shop.
    let pending: Value = platform
        .post(
            "/v1/tenants/applications",
            &application(&unique("hami"), &unique_email("hami")),
        )
        .await
        .json()
        .await
        .unwrap();
    let rejected: Value = platform
        .post(
            "/v1/tenants/applications",
            &application(&unique("turpan"), &unique_email("turpan")),
        )
        .await
        .json()
        .await
        .unwrap();
    let rejection = platform
        .post_with(
            Some(&platform.operator),
            &format!(
                "/v1/tenants/applications/{}/reject",
                rejected["id"].as_str().unwrap()
            ),
            &json!({"reason": "no licence number"}),
        )
        .await;
    assert_eq!(rejection.status(), 200);
    let (a, b) = (Uuid::parse_str(&a).unwrap(), Uuid::parse_str(&b).unwrap());

    let pool = caravan_shared::db::connect(&platform.tenant.database.runtime_url, 1)
        .await
        .unwrap();
    // A webhook job of each shop, queued in the shop's transaction, due much later.
    for shop in [a, b] {
        let tx = TenantTx::begin(&pool, TenantId::from(shop)).await.unwrap();
        tx.conn()
            .execute_unprepared(&format!(
                "INSERT INTO webhook_jobs (delivery_id, tenant_id, due_at) \
                 VALUES ('{}', '{shop}', now() + interval '1 day')",
                Uuid::now_v7()
            ))
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }

    let tx = TenantTx::begin(&pool, TenantId::from(a)).await.unwrap();
    for table in [
        "audit_log",
        "outbox",
        "tenant_status",
        "webhook_jobs",
        "applications",
    ] {
        // No filter: shop A's rows only (its approved application among them).
        assert!(
            count(tx.conn(), &format!("SELECT count(*) AS n FROM {table}")).await > 0,
            "{table}"
        );
        assert_eq!(
            count(
                tx.conn(),
                &format!(
                    "SELECT count(*) AS n FROM {table} WHERE tenant_id IS DISTINCT FROM '{a}'"
                )
            )
            .await,
            0,
            "{table} shows another shop's rows or the platform's"
        );
    }
    let smuggled = tx
        .conn()
        .execute_unprepared(&format!(
            "INSERT INTO audit_log (id, tenant_id, actor, action) \
             VALUES ('{}', '{b}', 'staff', 'forged')",
            Uuid::now_v7()
        ))
        .await;
    assert!(smuggled.is_err(), "a write for another shop is refused");
    tx.rollback().await.unwrap();

    // Outside any scope, nothing.
    for table in [
        "audit_log",
        "outbox",
        "tenant_status",
        "webhook_jobs",
        "applications",
    ] {
        assert_eq!(
            count(&pool, &format!("SELECT count(*) AS n FROM {table}")).await,
            0,
            "{table}"
        );
    }

    // Platform scope reaches every shop's rows and the platform's own.
    let every = PlatformTx::begin(&pool, "a test reads every shop")
        .await
        .unwrap();
    assert_eq!(
        count(
            every.conn(),
            &format!(
                "SELECT count(*) AS n FROM applications WHERE id = '{}' AND tenant_id IS NULL",
                pending["id"].as_str().unwrap()
            )
        )
        .await,
        1
    );
    assert_eq!(
        count(
            every.conn(),
            "SELECT count(*) AS n FROM audit_log WHERE tenant_id IS NULL AND action = 'reject'"
        )
        .await,
        1
    );
    assert_eq!(
        count(every.conn(), "SELECT count(*) AS n FROM webhook_jobs").await,
        2
    );
    every.commit().await.unwrap();

    // And so do the operators' listings; the audit trail of a shop is read in its scope.
    let listed: Value = platform
        .get_with(
            Some(&platform.operator),
            "/v1/tenants/applications?status=pending&limit=100",
        )
        .await
        .json()
        .await
        .unwrap();
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|item| item["id"] == pending["id"])
    );
    let trail: Value = platform
        .get_with(Some(&platform.operator), &format!("/v1/tenants/{b}/audit"))
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["approve", "suspend"]);
}
