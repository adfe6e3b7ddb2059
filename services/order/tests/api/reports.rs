//! The admin's "Today" summary and the CSV export of orders.

use crate::helpers::{Shop, Stack, problem, spawn_stack, unique_email};
use chrono::{DateTime, Duration, Timelike, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

/// A zone charging US$3.00 to the mainland, for orders paid in dollars.
async fn add_usd_zone(stack: &Stack, shop: &Shop) {
    let zone = stack
        .order.post_with(&shop.owner,
            "/v1/shipping-zones",
            &json!({
                "name": "中国大陆 (USD)", "countries": ["CN"],
                "rates": [{"name": "SF Express", "min_weight_grams": 0, "price": {"amount": 300, "currency": "USD"}}]
            }),
        )
        .await;
    assert_eq!(zone.status(), 201);
}

/// A guest order of one unit paid in US dollars (US$9.50 + US$3.00), unpaid.
async fn usd_order(stack: &Stack, shop: &Shop) -> Value {
    let cart: Value = stack
        .order
        .post(
            &format!("/v1/shops/{}/carts", shop.slug),
            &json!({"currency": "USD"}),
        )
        .await
        .json()
        .await
        .unwrap();
    let cart = (
        cart["id"].as_str().unwrap().to_owned(),
        cart["token"].as_str().unwrap().to_owned(),
    );
    let added = stack
        .order
        .client
        .post(
            stack
                .order
                .url(&format!("/v1/shops/{}/carts/{}/lines", shop.slug, cart.0)),
        )
        .header("X-Cart-Token", &cart.1)
        .json(&json!({"variant_id": shop.variant, "quantity": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 200);
    let rate = stack.rate_for(shop, &cart).await;
    let body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    let placed = stack
        .checkout(shop, &cart, &Uuid::now_v7().to_string(), &body)
        .await;
    assert_eq!(placed.status(), 201);
    placed.json().await.unwrap()
}

async fn summary(stack: &Stack, token: &str, query: &str) -> Value {
    let response = stack
        .order
        .get_with(token, &format!("/v1/orders/summary{query}"))
        .await;
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

fn id(order: &Value) -> &str {
    order["id"].as_str().unwrap()
}

async fn post_ok(stack: &Stack, shop: &Shop, path: &str, body: Value) {
    let response = stack.order.post_with(&shop.owner, path, &body).await;
    assert_eq!(response.status(), 200, "{path}");
}

#[tokio::test]
async fn the_summary_counts_paid_sales_per_currency_refunds_and_the_work_waiting() {
    let stack = spawn_stack().await;
    let shop = stack.shop(50).await;
    add_usd_zone(&stack, &shop).await;

    // ¥68 + ¥12 shipping, paid and shipped.
    let shipped = stack.paid_order(&shop, 1).await;
    post_ok(
        &stack,
        &shop,
        &format!("/v1/orders/{}/fulfillments", id(&shipped)),
        json!({"carrier": "顺丰速运", "tracking_number": "SF1000000001"}),
    )
    .await;
    // ¥136 + ¥25 shipping, paid, ¥20 refunded, not shipped.
    let refunded = stack.paid_order(&shop, 2).await;
    assert_eq!(
        refunded["total"],
        json!({"amount": 16100, "currency": "CNY"})
    );
    post_ok(
        &stack,
        &shop,
        &format!("/v1/orders/{}/refunds", id(&refunded)),
        json!({"amount": {"amount": 2000, "currency": "CNY"}, "reason": "One box arrived damaged"}),
    )
    .await;
    // US$9.50 + US$3.00, paid, not shipped.
    let dollars = usd_order(&stack, &shop).await;
    assert_eq!(dollars["total"], json!({"amount": 1250, "currency": "USD"}));
    assert_eq!(
        stack
            .pay(&shop, &dollars, "4242424242424242")
            .await
            .status(),
        200
    );
    // Waiting for money; and one called off before it was paid.
    stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let called_off = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    post_ok(
        &stack,
        &shop,
        &format!("/v1/orders/{}/cancel", id(&called_off)),
        json!({"reason": "Buyer asked to cancel"}),
    )
    .await;

    let today = summary(&stack, &shop.owner, "").await;
    assert_eq!(
        today["sales"],
        json!([
            {"currency": "CNY", "orders": 2, "gross": {"amount": 24100, "currency": "CNY"},
             "refunded": {"amount": 2000, "currency": "CNY"}, "net": {"amount": 22100, "currency": "CNY"}},
            {"currency": "USD", "orders": 1, "gross": {"amount": 1250, "currency": "USD"},
             "refunded": {"amount": 0, "currency": "USD"}, "net": {"amount": 1250, "currency": "USD"}}
        ]),
        "{today}"
    );
    assert_eq!(today["placed"], 5);
    assert_eq!(today["awaiting_payment"], 1);
    // The partly refunded order and the dollar order still wait for a courier.
    assert_eq!(today["to_ship"], 2);

    // Shipping part of an order keeps it waiting; shipping the rest does not.
    let line = refunded["lines"][0]["id"].as_str().unwrap();
    post_ok(
        &stack,
        &shop,
        &format!("/v1/orders/{}/fulfillments", id(&refunded)),
        json!({"carrier": "EMS", "tracking_number": "E1", "lines": [{"line_id": line, "quantity": 1}]}),
    )
    .await;
    assert_eq!(summary(&stack, &shop.owner, "").await["to_ship"], 2);
    post_ok(
        &stack,
        &shop,
        &format!("/v1/orders/{}/fulfillments", id(&dollars)),
        json!({"carrier": "EMS", "tracking_number": "E2"}),
    )
    .await;
    assert_eq!(summary(&stack, &shop.owner, "").await["to_ship"], 1);

    // A full refund of a paid order keeps it in sales, with nothing net.
    post_ok(
        &stack,
        &shop,
        &format!("/v1/orders/{}/refunds", id(&shipped)),
        json!({}),
    )
    .await;
    let after = summary(&stack, &shop.owner, "").await;
    assert_eq!(after["sales"][0]["orders"], 2);
    assert_eq!(after["sales"][0]["refunded"]["amount"], 2000 + 8000);
    assert_eq!(after["sales"][0]["net"]["amount"], 24100 - 10000);
}

#[tokio::test]
async fn the_window_includes_from_excludes_to_and_defaults_to_this_month_in_china() {
    let stack = spawn_stack().await;
    let shop = stack.shop(50).await;
    let at_start = stack.paid_order(&shop, 1).await;
    let just_before = stack.paid_order(&shop, 1).await;
    let at_end = stack.paid_order(&shop, 1).await;
    let this_month = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let last_month = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let place = |order: &Value, at: &str| {
        format!(
            "UPDATE orders SET created_at = {at} WHERE id = '{}';",
            id(order)
        )
    };
    // March 2026 in China: 2026-02-28T16:00Z to 2026-03-31T16:00Z.
    stack
        .order_sql(&format!(
            "{}{}{}",
            place(&at_start, "'2026-02-28T16:00:00Z'"),
            place(&just_before, "'2026-02-28T15:59:59.999Z'"),
            place(&at_end, "'2026-03-31T16:00:00Z'"),
        ))
        .await;
    let march = summary(
        &stack,
        &shop.owner,
        "?from=2026-03-01T00:00:00%2B08:00&to=2026-03-31T16:00:00Z",
    )
    .await;
    assert_eq!(march["from"], "2026-02-28T16:00:00Z");
    assert_eq!(march["to"], "2026-03-31T16:00:00Z");
    assert_eq!(march["placed"], 1);
    assert_eq!(march["sales"][0]["orders"], 1);
    assert_eq!(march["sales"][0]["gross"]["amount"], 8000);
    // Only `to` given: its month.
    let by_end = summary(&stack, &shop.owner, "?to=2026-03-31T16:00:00Z").await;
    assert_eq!(by_end["from"], "2026-02-28T16:00:00Z");
    assert_eq!(by_end["placed"], 1);

    // No window: from midnight of the 1st in Shanghai until now. The order of last
    // month's last second is out, the one of this month's first is in.
    let start =
        "date_trunc('month', now() AT TIME ZONE 'Asia/Shanghai') AT TIME ZONE 'Asia/Shanghai'";
    stack
        .order_sql(&format!(
            "{}{}",
            place(&this_month, start),
            place(&last_month, &format!("{start} - interval '1 millisecond'")),
        ))
        .await;
    let before = Utc::now();
    let now = summary(&stack, &shop.owner, "").await;
    let from: DateTime<Utc> = now["from"].as_str().unwrap().parse().unwrap();
    let to: DateTime<Utc> = now["to"].as_str().unwrap().parse().unwrap();
    let shanghai = from + Duration::hours(8);
    assert_eq!(
        (shanghai.format("%d").to_string(), shanghai.hour()),
        ("01".to_owned(), 0)
    );
    assert!(to >= before && to <= Utc::now(), "{now}");
    assert_eq!(now["placed"], 1, "{now}");
    assert_eq!(now["awaiting_payment"], 2);
    assert_eq!(now["sales"], json!([]));

    let reversed = problem(
        stack
            .order
            .get_with(
                &shop.owner,
                "/v1/orders/summary?from=2026-04-01T00:00:00Z&to=2026-03-01T00:00:00Z",
            )
            .await,
        422,
    )
    .await;
    assert_eq!(reversed["errors"][0]["field"], "from");
    let malformed = stack
        .order
        .get_with(&shop.owner, "/v1/orders/summary?from=yesterday")
        .await;
    assert!(malformed.status().is_client_error());
    assert_ne!(malformed.status(), 404);
}

/// Splits RFC 4180 CSV into rows of cells.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut cell = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                cell.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => cell.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut cell)),
            (false, '\r') => {}
            (false, '\n') => {
                row.push(std::mem::take(&mut cell));
                rows.push(std::mem::take(&mut row));
            }
            (false, c) => cell.push(c),
        }
    }
    rows
}

async fn export(
    stack: &Stack,
    token: &str,
    query: &str,
) -> (reqwest::header::HeaderMap, Vec<Vec<String>>) {
    let response = stack
        .order
        .get_with(token, &format!("/v1/orders/export{query}"))
        .await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let text = text.strip_prefix('\u{feff}').expect("a byte-order mark");
    (headers, parse_csv(text))
}

const HEADER: [&str; 17] = [
    "number",
    "placed_at",
    "status",
    "email",
    "name",
    "country",
    "province",
    "city",
    "currency",
    "subtotal",
    "shipping",
    "total",
    "refunded",
    "lines",
    "items",
    "carriers",
    "tracking_numbers",
];

#[tokio::test]
async fn the_export_writes_every_column_neutralises_formulas_and_filters_like_the_list() {
    let stack = spawn_stack().await;
    let shop = stack.shop(50).await;
    let sku: String = {
        let product: Value = stack
            .catalog
            .get_with(&shop.owner, &format!("/v1/products/{}", shop.product))
            .await
            .json()
            .await
            .unwrap();
        product["variants"][0]["sku"].as_str().unwrap().to_owned()
    };

    // A buyer whose name and address a spreadsheet would run.
    let cart = stack.cart(&shop, 2).await;
    let rate = stack.rate_for(&shop, &cart).await;
    let mut body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    body["shipping_address"]["recipient"] = json!("=HYPERLINK(\"http://evil.example\",\"王芳\")");
    body["shipping_address"]["city"] = json!("@SUM(A1)");
    body["shipping_address"]["district"] = json!("-");
    let tricky = stack
        .checkout(&shop, &cart, &Uuid::now_v7().to_string(), &body)
        .await;
    assert_eq!(tricky.status(), 201);
    let tricky: Value = tricky.json().await.unwrap();
    assert_eq!(
        stack.pay(&shop, &tricky, "4242424242424242").await.status(),
        200
    );
    let line = tricky["lines"][0]["id"].as_str().unwrap();
    post_ok(
        &stack,
        &shop,
        &format!("/v1/orders/{}/fulfillments", id(&tricky)),
        json!({"carrier": "顺丰速运", "tracking_number": "SF1000000001", "lines": [{"line_id": line, "quantity": 1}]}),
    )
    .await;
    post_ok(
        &stack,
        &shop,
        &format!("/v1/orders/{}/fulfillments", id(&tricky)),
        json!({"carrier": "+EMS", "tracking_number": "E1"}),
    )
    .await;
    post_ok(
        &stack,
        &shop,
        &format!("/v1/orders/{}/refunds", id(&tricky)),
        json!({"amount": {"amount": 1050, "currency": "CNY"}}),
    )
    .await;
    let pending = stack.place_order(&shop, 1, &unique_email("plain")).await;

    let (headers, rows) = export(&stack, &shop.owner, "").await;
    assert_eq!(
        headers.get("content-type").unwrap(),
        "text/csv; charset=utf-8"
    );
    let disposition = headers
        .get("content-disposition")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let today = (Utc::now() + Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string();
    let yesterday = (Utc::now() + Duration::hours(8) - Duration::minutes(1))
        .format("%Y-%m-%d")
        .to_string();
    assert!(
        disposition == format!("attachment; filename=\"orders-{today}.csv\"")
            || disposition == format!("attachment; filename=\"orders-{yesterday}.csv\""),
        "{disposition}"
    );
    assert!(headers.get("export-truncated").is_none());
    assert_eq!(rows[0], HEADER);
    assert_eq!(rows.len(), 3, "{rows:?}");
    // Newest first.
    assert_eq!(rows[1][0], pending["number"].to_string());
    assert_eq!(rows[1][2], "pending_payment");
    assert_eq!(rows[1][12], "0.00");
    assert_eq!(rows[1][15], "");

    let row = &rows[2];
    let placed_at: DateTime<Utc> = row[1].parse().unwrap();
    let created: DateTime<Utc> = tricky["created_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(placed_at.timestamp(), created.timestamp());
    assert!(row[1].ends_with('Z'));
    assert_eq!(
        row[..],
        [
            tricky["number"].to_string(),
            row[1].clone(),
            "partially_refunded".to_owned(),
            tricky["email"].as_str().unwrap().to_owned(),
            "'=HYPERLINK(\"http://evil.example\",\"王芳\")".to_owned(),
            "CN".to_owned(),
            "上海市".to_owned(),
            "'@SUM(A1)".to_owned(),
            "CNY".to_owned(),
            "136.00".to_owned(),
            "25.00".to_owned(),
            "161.00".to_owned(),
            "10.50".to_owned(),
            "1".to_owned(),
            format!("{sku}×2"),
            "顺丰速运; +EMS".to_owned(),
            "SF1000000001; E1".to_owned(),
        ]
    );

    // The list's filters: status, number, email, time.
    let (_, paid) = export(&stack, &shop.owner, "?status=pending_payment").await;
    assert_eq!(paid.len(), 2);
    assert_eq!(paid[1][0], pending["number"].to_string());
    let (_, by_number) = export(&stack, &shop.owner, &format!("?q=%23{}", tricky["number"])).await;
    assert_eq!(by_number.len(), 2);
    assert_eq!(by_number[1][0], tricky["number"].to_string());
    let (_, by_email) = export(&stack, &shop.owner, "?q=plain-").await;
    assert_eq!(by_email.len(), 2);
    assert_eq!(by_email[1][2], "pending_payment");
    let (_, none) = export(&stack, &shop.owner, "?to=2020-01-01T00:00:00Z").await;
    assert_eq!(none, vec![HEADER.map(str::to_owned).to_vec()]);
    let unknown = problem(
        stack
            .order
            .get_with(&shop.owner, "/v1/orders/export?status=shipped")
            .await,
        422,
    )
    .await;
    assert_eq!(unknown["errors"][0]["field"], "status");
}

#[tokio::test]
async fn another_shops_staff_see_none_of_this_shops_orders() {
    let stack = spawn_stack().await;
    let shop = stack.shop(20).await;
    let other = stack.shop(20).await;
    stack.paid_order(&shop, 1).await;
    stack.place_order(&shop, 1, &unique_email("buyer")).await;

    let mine = summary(&stack, &shop.owner, "").await;
    assert_eq!(mine["placed"], 2);
    let theirs = summary(&stack, &other.owner, "").await;
    assert_eq!(theirs["sales"], json!([]));
    assert_eq!(
        (
            &theirs["placed"],
            &theirs["awaiting_payment"],
            &theirs["to_ship"]
        ),
        (&json!(0), &json!(0), &json!(0))
    );
    let (_, rows) = export(&stack, &other.owner, "").await;
    assert_eq!(rows, vec![HEADER.map(str::to_owned).to_vec()]);
    let (_, rows) = export(&stack, &shop.owner, "").await;
    assert_eq!(rows.len(), 3);

    // Without a token, or as a buyer, nothing.
    assert_eq!(stack.order.get("/v1/orders/summary").await.status(), 401);
    assert_eq!(stack.order.get("/v1/orders/export").await.status(), 401);
}
