//! Retention of finished webhook deliveries, with time moved in the database.

use crate::helpers::spawn_platform;
use caravan_shared::retention::Retention;
use caravan_tenant::retention::RULES;
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

#[tokio::test]
async fn finished_deliveries_go_with_their_attempts_after_a_month() {
    let platform = spawn_platform().await;
    let owner = caravan_shared::db::connect(&platform.tenant.database.owner_url, 1)
        .await
        .unwrap();
    // One shop's endpoint, with a delivery in each state, most of them a month old.
    owner
        .execute_unprepared(
            "INSERT INTO webhook_endpoints (id, tenant_id, url, events, secret) VALUES
                 ('0190d8a4-0000-7000-8000-0000000000e1', '0190d8a4-0000-7000-8000-000000000001',
                  'https://erp.example.cn/hooks', '{order.paid}', 'whsec');
             INSERT INTO webhook_deliveries (id, tenant_id, endpoint_id, event_id, event_type, payload, status, created_at) VALUES
                 ('0190d8a4-0000-7000-8000-0000000000d1', '0190d8a4-0000-7000-8000-000000000001', '0190d8a4-0000-7000-8000-0000000000e1',
                  gen_random_uuid(), 'order.paid', '{}', 'delivered', now() - interval '31 days'),
                 ('0190d8a4-0000-7000-8000-0000000000d2', '0190d8a4-0000-7000-8000-000000000001', '0190d8a4-0000-7000-8000-0000000000e1',
                  gen_random_uuid(), 'order.paid', '{}', 'failed', now() - interval '31 days'),
                 ('0190d8a4-0000-7000-8000-0000000000d3', '0190d8a4-0000-7000-8000-000000000001', '0190d8a4-0000-7000-8000-0000000000e1',
                  gen_random_uuid(), 'order.paid', '{}', 'pending', now() - interval '31 days'),
                 ('0190d8a4-0000-7000-8000-0000000000d4', '0190d8a4-0000-7000-8000-000000000001', '0190d8a4-0000-7000-8000-0000000000e1',
                  gen_random_uuid(), 'order.paid', '{}', 'delivered', now() - interval '29 days');
             INSERT INTO webhook_attempts (id, tenant_id, delivery_id, attempt, status_code, latency_ms)
                 SELECT gen_random_uuid(), tenant_id, id, 1, 200, 12 FROM webhook_deliveries;",
        )
        .await
        .unwrap();

    let runtime = caravan_shared::db::connect(&platform.tenant.database.runtime_url, 2)
        .await
        .unwrap();
    let done = Retention::from_source(
        &HashMap::<String, String>::new(),
        runtime,
        &RULES,
        &prometheus::Registry::new(),
    )
    .unwrap()
    .run()
    .await;
    let removed: HashMap<&str, u64> = done.into_iter().collect();
    assert_eq!(removed["webhook_deliveries"], 2, "{removed:?}");

    let left: Vec<(String, i64)> = owner
        .query_all_raw(caravan_shared::db::statement(
            "SELECT right(d.id::text, 2) AS id, count(a.id) AS attempts \
             FROM webhook_deliveries d LEFT JOIN webhook_attempts a ON a.delivery_id = d.id \
             GROUP BY d.id ORDER BY d.id",
            vec![],
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| {
            (
                row.try_get("", "id").unwrap(),
                row.try_get("", "attempts").unwrap(),
            )
        })
        .collect();
    assert_eq!(left, [("d3".to_owned(), 1), ("d4".to_owned(), 1)]);
    let attempts: i64 = owner
        .query_one_raw(caravan_shared::db::statement(
            "SELECT count(*) AS n FROM webhook_attempts",
            vec![],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_eq!(attempts, 2);
}
