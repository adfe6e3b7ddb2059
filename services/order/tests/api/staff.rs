use crate::helpers::{problem, spawn_stack, unique_email};
use caravan_shared::identity::Role;
use caravan_shared::testing::wait_for_mail;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn staff_ship_in_parts_mark_delivered_and_the_buyer_is_told() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.paid_order(&shop, 3).await;
    let id = order["id"].as_str().unwrap();
    let line = order["lines"][0]["id"].as_str().unwrap();
    let buyer = order["email"].as_str().unwrap();

    let partial = stack
        .order.post_with(&shop.owner, &format!("/v1/orders/{id}/fulfillments"), &json!({
            "carrier": "顺丰速运", "tracking_number": "SF1000000001", "lines": [{"line_id": line, "quantity": 1}]
        }))
        .await;
    assert_eq!(partial.status(), 200);
    let partial: Value = partial.json().await.unwrap();
    assert_eq!(partial["status"], "partially_fulfilled");
    assert_eq!(partial["lines"][0]["fulfilled_quantity"], 1);

    // More than is left is refused; the rest ships.
    let too_many = stack
        .order.post_with(&shop.owner, &format!("/v1/orders/{id}/fulfillments"), &json!({
            "carrier": "顺丰速运", "tracking_number": "SF1000000002", "lines": [{"line_id": line, "quantity": 3}]
        }))
        .await;
    assert_eq!(
        problem(too_many, 422).await["errors"][0]["field"],
        "lines[0].quantity"
    );
    let rest = stack
        .order
        .post_with(
            &shop.owner,
            &format!("/v1/orders/{id}/fulfillments"),
            &json!({"carrier": "顺丰速运", "tracking_number": "SF1000000002"}),
        )
        .await;
    let rest: Value = rest.json().await.unwrap();
    assert_eq!(rest["status"], "fulfilled");
    assert_eq!(rest["fulfillments"].as_array().unwrap().len(), 2);

    let delivered = stack
        .order
        .post_with(&shop.owner, &format!("/v1/orders/{id}/deliver"), &json!({}))
        .await;
    assert_eq!(
        delivered.json::<Value>().await.unwrap()["status"],
        "delivered"
    );

    let mail = wait_for_mail(buyer, 3).await.unwrap();
    let shipped: Vec<_> = mail
        .iter()
        .filter(|m| m.subject.contains("已发货"))
        .collect();
    assert_eq!(shipped.len(), 2, "{mail:?}");
    assert!(
        shipped
            .iter()
            .any(|m| m.text.contains("SF1000000001") && m.text.contains("顺丰速运"))
    );

    let timeline: Value = stack
        .order
        .get_with(&shop.owner, &format!("/v1/orders/{id}/timeline"))
        .await
        .json()
        .await
        .unwrap();
    let entries: Vec<(&str, &str)> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(entries[0], ("placed", "buyer"));
    assert_eq!(entries[1], ("paid", "buyer"));
    assert_eq!(entries[2].0, "fulfilled");
    assert!(entries[2].1.starts_with("owner:"));
    assert_eq!(entries[4].0, "delivered");
}

#[tokio::test]
async fn illegal_moves_answer_409_with_the_current_status() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let pending = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let id = pending["id"].as_str().unwrap();
    for (path, body) in [
        ("deliver", json!({})),
        (
            "fulfillments",
            json!({"carrier": "EMS", "tracking_number": "E1"}),
        ),
        ("refunds", json!({})),
    ] {
        let refused = problem(
            stack
                .order
                .post_with(&shop.owner, &format!("/v1/orders/{id}/{path}"), &body)
                .await,
            409,
        )
        .await;
        assert_eq!(refused["code"], "invalid_status_change");
        assert_eq!(
            refused["errors"][0],
            json!({"field": "status", "message": "pending_payment"}),
            "{path}"
        );
    }
    let paid = stack.paid_order(&shop, 1).await;
    let again = problem(stack.pay(&shop, &paid, "4242424242424242").await, 409).await;
    assert_eq!(again["errors"][0]["message"], "paid");
    let marked = problem(
        stack
            .order
            .post_with(
                &shop.owner,
                &format!("/v1/orders/{}/mark-paid", paid["id"].as_str().unwrap()),
                &json!({}),
            )
            .await,
        409,
    )
    .await;
    assert_eq!(marked["errors"][0]["message"], "paid");
    let shipped = stack
        .order
        .post_with(
            &shop.owner,
            &format!("/v1/orders/{}/fulfillments", paid["id"].as_str().unwrap()),
            &json!({"carrier": "EMS", "tracking_number": "E2"}),
        )
        .await;
    assert_eq!(shipped.status(), 200);
    let cancel = problem(
        stack
            .order
            .post_with(
                &shop.owner,
                &format!("/v1/orders/{}/cancel", paid["id"].as_str().unwrap()),
                &json!({"reason": "too late"}),
            )
            .await,
        409,
    )
    .await;
    assert_eq!(cancel["errors"][0]["message"], "fulfilled");
}

#[tokio::test]
async fn shipping_an_order_with_nothing_left_to_ship_answers_409_and_records_nothing() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let post =
        async |path: String, body: Value| stack.order.post_with(&shop.owner, &path, &body).await;
    let ship = json!({"carrier": "顺丰速运", "tracking_number": "SF2000000001"});
    let refund = json!({"amount": {"amount": 1000, "currency": "CNY"}, "reason": "一盒破损"});

    // Shipped in full, then refunded in part; and shipped, delivered, then refunded
    // in part.
    let shipped = stack.paid_order(&shop, 2).await;
    let delivered = stack.paid_order(&shop, 1).await;
    for (order, deliver) in [(&shipped, false), (&delivered, true)] {
        let id = order["id"].as_str().unwrap();
        let fulfilled = post(format!("/v1/orders/{id}/fulfillments"), ship.clone()).await;
        assert_eq!(fulfilled.status(), 200);
        if deliver {
            let answer = post(format!("/v1/orders/{id}/deliver"), json!({})).await;
            assert_eq!(answer.status(), 200);
        }
        let refunded = post(format!("/v1/orders/{id}/refunds"), refund.clone()).await;
        assert_eq!(refunded.status(), 200);
    }

    for order in [&shipped, &delivered] {
        let id = order["id"].as_str().unwrap();
        let line = order["lines"][0]["id"].as_str().unwrap();
        let before = stack.staff_view(&shop, order).await;
        assert_eq!(before["status"], "partially_refunded");
        let everything = ship.clone();
        let one_unit = json!({
            "carrier": "顺丰速运", "tracking_number": "SF2000000002",
            "lines": [{"line_id": line, "quantity": 1}]
        });
        for body in [everything, one_unit] {
            let refused = problem(
                post(format!("/v1/orders/{id}/fulfillments"), body.clone()).await,
                409,
            )
            .await;
            assert_eq!(refused["code"], "invalid_status_change", "{body}");
            assert_eq!(
                refused["errors"][0],
                json!({"field": "status", "message": "partially_refunded"})
            );
            assert_eq!(
                refused["detail"],
                "nothing is left to ship on an order that is partially_refunded"
            );
        }
        // Nothing was written: no shipment, no status change, the refund as it was.
        let after = stack.staff_view(&shop, order).await;
        assert_eq!(after, before);
        assert_eq!(after["fulfillments"].as_array().unwrap().len(), 1);
        assert_eq!(after["refunded"]["amount"], 1000);
        let timeline: Value = stack
            .order
            .get_with(&shop.owner, &format!("/v1/orders/{id}/timeline"))
            .await
            .json()
            .await
            .unwrap();
        let shipments = timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "fulfilled")
            .count();
        assert_eq!(shipments, 1, "{timeline}");
    }
}

#[tokio::test]
async fn refunds_are_bounded_by_what_was_paid() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let order = stack.paid_order(&shop, 2).await;
    let id = order["id"].as_str().unwrap();
    let total = order["total"]["amount"].as_i64().unwrap();
    let path = format!("/v1/orders/{id}/refunds");

    let too_much = problem(
        stack
            .order
            .post_with(
                &shop.owner,
                &path,
                &json!({"amount": {"amount": total + 1, "currency": "CNY"}}),
            )
            .await,
        422,
    )
    .await;
    assert_eq!(too_much["errors"][0]["field"], "amount.amount");
    let wrong_currency = problem(
        stack
            .order
            .post_with(
                &shop.owner,
                &path,
                &json!({"amount": {"amount": 100, "currency": "USD"}}),
            )
            .await,
        422,
    )
    .await;
    assert_eq!(wrong_currency["errors"][0]["field"], "amount.currency");
    let negative = problem(
        stack
            .order
            .post_with(
                &shop.owner,
                &path,
                &json!({"amount": {"amount": -5, "currency": "CNY"}}),
            )
            .await,
        422,
    )
    .await;
    assert_eq!(negative["errors"][0]["field"], "amount.amount");

    // A partial refund, repeated with its key: counted once. A key that is not a
    // valid one is refused before any money moves, not treated as no key.
    let partial = json!({"amount": {"amount": 2000, "currency": "CNY"}, "reason": "一盒破损"});
    let bad_key = problem(
        stack
            .order
            .client
            .post(stack.order.url(&path))
            .bearer_auth(&shop.owner)
            .header(
                "Idempotency-Key",
                reqwest::header::HeaderValue::from_bytes("退款-1".as_bytes()).unwrap(),
            )
            .json(&partial)
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    assert_eq!(bad_key["errors"][0]["field"], "Idempotency-Key");
    assert_eq!(
        bad_key["errors"][0]["message"],
        "must be visible ASCII characters"
    );
    for _ in 0..2 {
        let response = stack
            .order
            .client
            .post(stack.order.url(&path))
            .bearer_auth(&shop.owner)
            .header("Idempotency-Key", "refund-1")
            .json(&partial)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let view: Value = response.json().await.unwrap();
        assert_eq!(view["refunded"]["amount"], 2000);
        assert_eq!(view["status"], "partially_refunded");
    }
    let rest: Value = stack
        .order
        .post_with(&shop.owner, &path, &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["status"], "refunded");
    assert_eq!(rest["refunded"]["amount"], total);
    let more = problem(
        stack
            .order
            .post_with(
                &shop.owner,
                &path,
                &json!({"amount": {"amount": 1, "currency": "CNY"}}),
            )
            .await,
        409,
    )
    .await;
    assert_eq!(more["errors"][0]["message"], "refunded");
    let mail = wait_for_mail(order["email"].as_str().unwrap(), 3)
        .await
        .unwrap();
    assert!(
        mail.iter()
            .any(|m| m.subject.contains("退款") && m.text.contains("20.00 CNY")),
        "{mail:?}"
    );
}

#[tokio::test]
async fn cancelling_gives_stock_and_money_back() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    // Unpaid: the hold is released.
    let pending = stack.place_order(&shop, 2, &unique_email("buyer")).await;
    stack.wait_for_stock(&shop, shop.variant, (10, 2)).await;
    let cancelled = stack
        .order
        .post_with(
            &shop.owner,
            &format!("/v1/orders/{}/cancel", pending["id"].as_str().unwrap()),
            &json!({"reason": "买家要求取消"}),
        )
        .await;
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["cancel_reason"], "买家要求取消");
    stack.wait_for_stock(&shop, shop.variant, (10, 0)).await;

    // Paid: refunded in full, and the units go back on the shelf.
    let paid = stack.paid_order(&shop, 3).await;
    stack.wait_for_stock(&shop, shop.variant, (7, 0)).await;
    let cancelled = stack
        .order
        .post_with(
            &shop.owner,
            &format!("/v1/orders/{}/cancel", paid["id"].as_str().unwrap()),
            &json!({"reason": "缺货"}),
        )
        .await;
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    assert_eq!(cancelled["refunded"], paid["total"]);
    stack.wait_for_stock(&shop, shop.variant, (10, 0)).await;
    let mail = wait_for_mail(paid["email"].as_str().unwrap(), 2)
        .await
        .unwrap();
    assert!(
        mail.iter()
            .any(|m| m.subject.contains("已取消") && m.text.contains("已退款")),
        "{mail:?}"
    );

    let no_reason = stack
        .order
        .post_with(
            &shop.owner,
            &format!("/v1/orders/{}/cancel", paid["id"].as_str().unwrap()),
            &json!({"reason": " "}),
        )
        .await;
    problem(no_reason, 422).await;
}

#[tokio::test]
async fn manual_payments_wait_for_the_shop_to_confirm() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let settings = stack
        .order
        .patch_with(
            &shop.owner,
            "/v1/orders/settings",
            &json!({"bank_transfer_details": "农业银行 6228 4800 0000 0000 000", "payment_window_minutes": 120}),
        )
        .await;
    assert_eq!(settings.status(), 200);
    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let expires: chrono::DateTime<chrono::Utc> =
        order["expires_at"].as_str().unwrap().parse().unwrap();
    assert!((expires - chrono::Utc::now()).num_minutes() >= 119);
    let chosen = stack
        .order
        .client
        .post(stack.order.url(&format!(
            "/v1/shops/{}/orders/{}/payments",
            shop.slug,
            order["id"].as_str().unwrap()
        )))
        .header("X-Order-Token", order["access_token"].as_str().unwrap())
        .json(&json!({"provider": "manual"}))
        .send()
        .await
        .unwrap();
    assert_eq!(chosen.status(), 202);
    let chosen: Value = chosen.json().await.unwrap();
    assert_eq!(chosen["status"], "pending_payment");
    assert_eq!(
        chosen["payments"][0]["detail"],
        "农业银行 6228 4800 0000 0000 000"
    );
    let marked = stack
        .order
        .post_with(
            &shop.owner,
            &format!("/v1/orders/{}/mark-paid", order["id"].as_str().unwrap()),
            &json!({"reference": "ABC-88231"}),
        )
        .await;
    let marked: Value = marked.json().await.unwrap();
    assert_eq!(marked["status"], "paid");
    assert_eq!(marked["payment_provider"], "manual");
    stack.wait_for_stock(&shop, shop.variant, (9, 0)).await;

    let bad = stack
        .order
        .patch_with(
            &shop.owner,
            "/v1/orders/settings",
            &json!({"payment_window_minutes": 1, "notify_email": "nope"}),
        )
        .await;
    let bad = problem(bad, 422).await;
    assert_eq!(bad["errors"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn another_shop_cannot_read_change_or_detect_these_orders() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let other = stack.shop(10).await;
    let order = stack.paid_order(&shop, 1).await;
    let id = order["id"].as_str().unwrap();

    // The other shop's staff: 404 everywhere, empty lists.
    problem(
        stack
            .order
            .get_with(&other.owner, &format!("/v1/orders/{id}"))
            .await,
        404,
    )
    .await;
    problem(
        stack
            .order
            .get_with(&other.owner, &format!("/v1/orders/{id}/timeline"))
            .await,
        404,
    )
    .await;
    for (path, body) in [
        (
            "fulfillments",
            json!({"carrier": "EMS", "tracking_number": "X"}),
        ),
        ("cancel", json!({"reason": "x"})),
        ("refunds", json!({})),
        ("mark-paid", json!({})),
        ("deliver", json!({})),
    ] {
        problem(
            stack
                .order
                .post_with(&other.owner, &format!("/v1/orders/{id}/{path}"), &body)
                .await,
            404,
        )
        .await;
    }
    let list: Value = stack
        .order
        .get_with(&other.owner, "/v1/orders")
        .await
        .json()
        .await
        .unwrap();
    assert!(list["items"].as_array().unwrap().is_empty());
    let search: Value = stack
        .order
        .get_with(&other.owner, "/v1/orders?q=1001")
        .await
        .json()
        .await
        .unwrap();
    assert!(search["items"].as_array().unwrap().is_empty());
    let zones: Value = stack
        .order
        .get_with(&other.owner, "/v1/shipping-zones")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(zones["items"].as_array().unwrap().len(), 1);
    assert_ne!(zones["items"][0]["id"], shop.zone["id"]);
    let zone_path = format!("/v1/shipping-zones/{}", shop.zone["id"].as_str().unwrap());
    let replaced = stack
        .order
        .put_with(
            &other.owner,
            &zone_path,
            &json!({"name": "x", "countries": ["CN"], "rates": [{"name": "x", "price": {"amount": 1, "currency": "CNY"}}]}),
        )
        .await;
    problem(replaced, 404).await;
    let removed = stack.order.delete_with(&other.owner, &zone_path).await;
    problem(removed, 404).await;
    // Through the other shop's storefront, the order does not exist even with its token.
    let via_other = stack
        .order
        .client
        .get(
            stack
                .order
                .url(&format!("/v1/shops/{}/orders/{id}", other.slug)),
        )
        .header("X-Order-Token", order["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    problem(via_other, 404).await;
    // The owner still sees it untouched.
    let mine: Value = stack
        .order
        .get_with(&shop.owner, &format!("/v1/orders/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["status"], "paid");
    let mine: Value = stack
        .order
        .get_with(&shop.owner, "/v1/orders?q=%231001")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);

    // Row-level security is the second lock: with the other shop's tenant set, the
    // runtime role sees none of these rows even when asking for them by id.
    let pool = caravan_shared::db::connect(&stack.order.database.runtime_url, 1)
        .await
        .unwrap();
    let tx =
        caravan_shared::tenancy::TenantTx::begin(&pool, caravan_shared::TenantId::from(other.id))
            .await
            .unwrap();
    for table in [
        "orders",
        "order_lines",
        "payments",
        "order_timeline",
        "carts",
        "shipping_rates",
    ] {
        let key = if table == "orders" || table == "carts" {
            "id"
        } else {
            "order_id"
        };
        let sql = if table == "shipping_rates" {
            format!(
                "SELECT count(*) AS n FROM {table} WHERE tenant_id = '{}'",
                shop.id
            )
        } else if table == "carts" {
            format!("SELECT count(*) AS n FROM {table} WHERE order_id = '{id}'")
        } else {
            format!("SELECT count(*) AS n FROM {table} WHERE {key} = '{id}'")
        };
        let row = sea_orm::ConnectionTrait::query_one_raw(
            tx.conn(),
            sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, sql),
        )
        .await
        .unwrap()
        .unwrap();
        assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "{table}");
    }
}

#[tokio::test]
async fn apps_need_the_order_scopes_and_quotas_and_suspension_are_enforced() {
    let stack = spawn_stack().await;
    let shop = stack.shop_with(10, Some(1)).await;
    let catalog_app = stack
        .tenant
        .keys
        .member(shop.id, Role::App, &["catalog:read"]);
    problem(stack.order.get_with(&catalog_app, "/v1/orders").await, 403).await;
    let reader = stack
        .tenant
        .keys
        .member(shop.id, Role::App, &["orders:read"]);
    assert_eq!(
        stack.order.get_with(&reader, "/v1/orders").await.status(),
        200
    );
    problem(
        stack
            .order
            .post_with(&reader, "/v1/shipping-zones", &json!({}))
            .await,
        403,
    )
    .await;
    problem(stack.order.get("/v1/orders").await, 401).await;

    // The plan allows one order a month.
    stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let cart = stack.cart(&shop, 1).await;
    let rate = stack.rate_for(&shop, &cart).await;
    let body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    let refused = problem(stack.checkout(&shop, &cart, "over-quota", &body).await, 403).await;
    assert_eq!(refused["code"], "quota_exceeded");
    assert_eq!(stack.stock(&shop, shop.variant).await, (10, 1));

    // Suspended: the storefront and the staff API stop within a second.
    let slug = shop.slug.clone();
    stack
        .tenant
        .publish(
            "tenant.suspended",
            Some(shop.id),
            json!({"slug": slug, "reason": "unpaid invoice"}),
        )
        .await
        .unwrap();
    let started = Instant::now();
    loop {
        let storefront = stack
            .order
            .post(&format!("/v1/shops/{slug}/carts"), &json!({}))
            .await
            .status();
        let staff = stack
            .order
            .get_with(&shop.owner, "/v1/orders")
            .await
            .status();
        if storefront == 404 && staff == 403 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "still answering after a second"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
