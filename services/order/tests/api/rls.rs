//! Row-level security, the second lock: every order-service table with a
//! `tenant_id` is under it; a shop's transaction sees none of another shop's
//! deadlines, facts, events or status, while the expiry worker's platform scope
//! still finds every shop's passed deadlines.

use crate::helpers::{spawn_stack, unique_email};
use caravan_shared::TenantId;
use caravan_shared::tenancy::{PlatformTx, TenantTx};
use caravan_shared::testing::{assert_every_tenant_table_forces_rls, count};
use sea_orm::ConnectionTrait;

const NEWLY_COVERED: [&str; 3] = ["order_deadlines", "outbox", "tenant_status"];

#[tokio::test]
async fn every_table_with_a_tenant_id_forces_row_level_security() {
    let stack = spawn_stack().await;
    let tables = assert_every_tenant_table_forces_rls(&stack.order.database).await;
    for table in [
        "cart_lines",
        "carts",
        "fulfillments",
        "order_counters",
        "order_lines",
        "order_settings",
        "order_timeline",
        "orders",
        "payments",
        "shipping_rates",
        "shipping_zones",
    ]
    .into_iter()
    .chain(NEWLY_COVERED)
    {
        assert!(tables.iter().any(|t| t == table), "{table} in {tables:?}");
    }
    let tables = assert_every_tenant_table_forces_rls(&stack.catalog.database).await;
    assert!(tables.iter().any(|t| t == "outbox"), "{tables:?}");
}

#[tokio::test]
async fn a_shops_transaction_sees_only_its_own_deadlines_and_facts() {
    let stack = spawn_stack().await;
    let a = stack.shop(10).await;
    let b = stack.shop(10).await;
    // A pending order each: its deadline, its events.
    stack.place_order(&a, 1, &unique_email("buyer")).await;
    stack.place_order(&b, 1, &unique_email("buyer")).await;

    let pool = caravan_shared::db::connect(&stack.order.database.runtime_url, 1)
        .await
        .unwrap();
    let tx = TenantTx::begin(&pool, TenantId::from(a.id)).await.unwrap();
    for table in NEWLY_COVERED {
        // No filter: shop A's rows only.
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
    let moved = tx
        .conn()
        .execute_unprepared(&format!(
            "UPDATE order_deadlines SET tenant_id = '{}'",
            b.id
        ))
        .await;
    assert!(moved.is_err(), "a row cannot be handed to another shop");
    tx.rollback().await.unwrap();

    for table in NEWLY_COVERED {
        assert_eq!(
            count(&pool, &format!("SELECT count(*) AS n FROM {table}")).await,
            0,
            "{table} outside any scope"
        );
    }

    // The expiry worker's platform scope finds every shop's deadlines.
    let every = PlatformTx::begin(&pool, "a test reads every shop")
        .await
        .unwrap();
    assert_eq!(
        count(every.conn(), "SELECT count(*) AS n FROM order_deadlines").await,
        2
    );
    every.commit().await.unwrap();
}
