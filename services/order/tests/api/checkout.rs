use crate::helpers::{problem, spawn_stack, unique_email};
use caravan_shared::testing::wait_for_mail;
use serde_json::{Value, json};
use uuid::Uuid;

#[tokio::test]
async fn a_guest_fills_a_cart_checks_out_pays_and_is_emailed() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let cart = stack.cart(&shop, 2).await;

    // The cart shows current prices, weight and, for a destination, shipping.
    let view: Value = stack
        .order
        .client
        .get(stack.order.url(&format!(
            "/v1/shops/{}/carts/{}?country=CN&province=上海市",
            shop.slug, cart.0
        )))
        .header("X-Cart-Token", &cart.1)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        view["lines"][0]["unit_price"],
        json!({"amount": 6800, "currency": "CNY"})
    );
    assert_eq!(
        view["lines"][0]["line_total"],
        json!({"amount": 13600, "currency": "CNY"})
    );
    assert_eq!(view["lines"][0]["title"], "宁夏中宁枸杞");
    assert_eq!(
        view["subtotal"],
        json!({"amount": 13600, "currency": "CNY"})
    );
    assert_eq!(view["total_weight_grams"], 1040);
    assert_eq!(view["ready"], true);
    // 1,040 g is over the 1 kg band.
    let options = view["shipping_options"].as_array().unwrap();
    assert_eq!(options.len(), 1);
    assert_eq!(
        options[0]["price"],
        json!({"amount": 2500, "currency": "CNY"})
    );
    // Without the token the cart does not exist.
    let hidden = stack
        .order
        .get(&format!("/v1/shops/{}/carts/{}", shop.slug, cart.0))
        .await;
    problem(hidden, 404).await;

    let buyer = unique_email("buyer");
    let rate = options[0]["rate_id"].as_str().unwrap().to_owned();
    let body = stack.checkout_body(&cart, &rate, &buyer);
    let response = stack.checkout(&shop, &cart, "checkout-1", &body).await;
    assert_eq!(response.status(), 201);
    let order: Value = response.json().await.unwrap();
    assert_eq!(order["status"], "pending_payment");
    assert_eq!(order["number"], 1001);
    assert_eq!(order["name"], "#1001");
    assert_eq!(
        order["subtotal"],
        json!({"amount": 13600, "currency": "CNY"})
    );
    assert_eq!(
        order["shipping"],
        json!({"amount": 2500, "currency": "CNY"})
    );
    assert_eq!(order["total"], json!({"amount": 16100, "currency": "CNY"}));
    assert_eq!(order["lines"][0]["unit_price"]["amount"], 6800);
    assert_eq!(order["shipping_address"]["country"], "CN");
    let token = order["access_token"].as_str().unwrap().to_owned();
    stack.wait_for_stock(&shop, shop.variant, (10, 2)).await;

    // The cart is spent.
    let again = stack
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
    problem(again, 409).await;

    // A declined card leaves the order waiting.
    let declined = stack.pay(&shop, &order, "4000000000000002").await;
    let declined = problem(declined, 402).await;
    assert_eq!(declined["code"], "payment_declined");
    let timeout = stack.pay(&shop, &order, "4000000000000119").await;
    problem(timeout, 504).await;
    let paid = stack.pay(&shop, &order, "4242 4242 4242 4242").await;
    assert_eq!(paid.status(), 200);
    let paid: Value = paid.json().await.unwrap();
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["paid"], json!({"amount": 16100, "currency": "CNY"}));
    let statuses: Vec<&str> = paid["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["status"].as_str().unwrap())
        .collect();
    // The timed-out attempt is pending under its reference until the gateway says
    // how it ended; paying with another card voided it.
    assert_eq!(statuses, ["declined", "pending", "succeeded"]);
    // Paying commits the reservation: two units leave the shelf.
    stack.wait_for_stock(&shop, shop.variant, (8, 0)).await;

    // The guest reads the order with its token, and only with it.
    let path = format!(
        "/v1/shops/{}/orders/{}",
        shop.slug,
        order["id"].as_str().unwrap()
    );
    let read = stack
        .order
        .client
        .get(stack.order.url(&path))
        .header("X-Order-Token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let read: Value = read.json().await.unwrap();
    assert_eq!(read["status"], "paid");
    assert!(read.get("access_token").is_none());
    problem(stack.order.get(&path).await, 404).await;
    let wrong = stack
        .order
        .client
        .get(stack.order.url(&path))
        .header("X-Order-Token", "guess")
        .send()
        .await
        .unwrap();
    problem(wrong, 404).await;

    // The buyer's confirmation (in Chinese, the cart's language) and the shop's notice.
    let mail = wait_for_mail(&buyer, 1).await.unwrap();
    assert!(mail[0].subject.contains("#1001"), "{}", mail[0].subject);
    assert!(mail[0].text.contains("161.00 CNY"), "{}", mail[0].text);
    assert!(mail[0].text.contains("宁夏中宁枸杞"), "{}", mail[0].text);
    // The link to the order's page in the storefront, opened by the order's token.
    let page = format!(
        "http://localhost:8080/s/{}/zh-CN/orders/{}?token={token}",
        shop.slug,
        order["id"].as_str().unwrap()
    );
    assert!(mail[0].text.contains(&page), "{}", mail[0].text);
    let notice = wait_for_mail(&shop.contact, 1).await.unwrap();
    assert!(
        notice[0].subject.contains("新订单 #1001"),
        "{}",
        notice[0].subject
    );
    assert!(notice[0].text.contains(&buyer));
}

#[tokio::test]
async fn the_same_key_answers_the_same_order_and_another_body_is_refused() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let cart = stack.cart(&shop, 1).await;
    let rate = stack.rate_for(&shop, &cart).await;
    let body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));

    // Five retries at once: one order, five equal answers.
    let attempts = futures_util::future::join_all(
        (0..5).map(|_| stack.checkout(&shop, &cart, "retry-key", &body)),
    )
    .await;
    let mut ids = Vec::new();
    for response in attempts {
        assert_eq!(response.status(), 201);
        let order: Value = response.json().await.unwrap();
        ids.push((
            order["id"].clone(),
            order["number"].clone(),
            order["access_token"].clone(),
        ));
    }
    assert!(ids.windows(2).all(|pair| pair[0] == pair[1]), "{ids:?}");
    stack.wait_for_stock(&shop, shop.variant, (10, 1)).await;

    let mut other = body.clone();
    other["email"] = json!(unique_email("someone-else"));
    let refused = problem(stack.checkout(&shop, &cart, "retry-key", &other).await, 422).await;
    assert_eq!(refused["errors"][0]["field"], "Idempotency-Key");

    // Another key for the spent cart: refused, nothing more reserved.
    let spent = problem(
        stack.checkout(&shop, &cart, "another-key", &body).await,
        409,
    )
    .await;
    assert_eq!(spent["code"], "cart_checked_out");
    assert_eq!(stack.stock(&shop, shop.variant).await, (10, 1));
}

#[tokio::test]
async fn short_lines_are_named_and_nothing_is_reserved() {
    let stack = spawn_stack().await;
    let shop = stack.shop(2).await;
    let (raisins, plenty) = stack.create_product(&shop.owner, "raisins", 50).await;
    let cart = stack.cart(&shop, 3).await;
    let added = stack
        .order
        .client
        .post(
            stack
                .order
                .url(&format!("/v1/shops/{}/carts/{}/lines", shop.slug, cart.0)),
        )
        .header("X-Cart-Token", &cart.1)
        .json(&json!({"variant_id": plenty, "quantity": 1}))
        .send()
        .await
        .unwrap();
    let view: Value = added.json().await.unwrap();
    assert_eq!(view["lines"][0]["problem"], "insufficient_stock");
    assert_eq!(view["lines"][1]["problem"], Value::Null);
    assert_eq!(view["ready"], false);

    let rate = stack.rate_for(&shop, &cart).await;
    let body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    let short = problem(stack.checkout(&shop, &cart, "short", &body).await, 409).await;
    assert_eq!(short["code"], "insufficient_stock");
    assert_eq!(short["errors"].as_array().unwrap().len(), 1);
    assert_eq!(short["errors"][0]["field"], "lines[0]");
    assert!(
        short["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("3 requested, 2 available")
    );
    // Nothing held for either line; a retry with the key asks again, and is
    // short again.
    assert_eq!(stack.stock(&shop, shop.variant).await, (2, 0));
    assert_eq!(stack.stock_of(&shop.owner, raisins, plenty).await, (50, 0));
    let repeat = problem(stack.checkout(&shop, &cart, "short", &body).await, 409).await;
    assert_eq!(repeat["code"], "insufficient_stock");

    // After fixing the cart, a retry with the same key goes through: the refusal
    // was not kept for it.
    let fixed = stack
        .order
        .client
        .put(stack.order.url(&format!(
            "/v1/shops/{}/carts/{}/lines/{}",
            shop.slug, cart.0, shop.variant
        )))
        .header("X-Cart-Token", &cart.1)
        .json(&json!({"quantity": 2}))
        .send()
        .await
        .unwrap();
    assert_eq!(fixed.status(), 200);
    assert_eq!(
        stack.checkout(&shop, &cart, "short", &body).await.status(),
        201
    );
    assert_eq!(stack.stock(&shop, shop.variant).await, (2, 2));
}

#[tokio::test]
async fn bad_input_is_refused_with_the_field_and_nothing_is_ordered() {
    let stack = spawn_stack().await;
    let shop = stack.shop(5).await;
    let cart = stack.cart(&shop, 1).await;
    let rate = stack.rate_for(&shop, &cart).await;
    let good = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    let path = format!("/v1/shops/{}/checkout", shop.slug);

    let mut bad = good.clone();
    bad["email"] = json!("not-an-email");
    bad["phone"] = json!("call me");
    bad["shipping_address"]["street"] = json!("");
    let refused = problem(stack.checkout(&shop, &cart, "bad-1", &bad).await, 422).await;
    let fields: Vec<&str> = refused["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["email", "phone", "shipping_address.street"]);
    assert_eq!(
        refused["errors"][1]["message"],
        "must be a phone number of 5 to 20 digits, e.g. +86 951 555 0100"
    );
    assert_eq!(refused["errors"][2]["message"], "is required");

    // A note keeps its line breaks; other control characters are refused, as in a
    // line of the address.
    let mut bells = good.clone();
    bells["note"] = json!("工作日\n送货\u{7}");
    bells["shipping_address"]["recipient"] = json!("王\t芳");
    let refused = problem(stack.checkout(&shop, &cart, "bad-1a", &bells).await, 422).await;
    assert_eq!(
        refused["errors"],
        json!([
            {"field": "shipping_address.recipient", "message": "must not contain control characters"},
            {"field": "note", "message": "must not contain control characters"},
        ])
    );

    // The address as an array of its lines in order is not an address.
    let mut lines = good.clone();
    lines["shipping_address"] = json!([
        "CN",
        "上海市",
        "上海市",
        "浦东新区",
        "世纪大道 100 号",
        "200120",
        "王芳"
    ]);
    let refused = problem(stack.checkout(&shop, &cart, "bad-1b", &lines).await, 422).await;
    assert_eq!(
        refused["errors"][0]["field"], "shipping_address",
        "{refused}"
    );

    let mut abroad = good.clone();
    abroad["shipping_address"]["country"] = json!("KZ");
    let refused = problem(stack.checkout(&shop, &cart, "bad-2", &abroad).await, 422).await;
    assert_eq!(refused["errors"][0]["field"], "shipping_address.country");

    // Only assigned ISO 3166-1 codes, in capitals, name a country.
    for (key, country) in [("bad-2a", "cn"), ("bad-2b", "XK")] {
        let mut unassigned = good.clone();
        unassigned["shipping_address"]["country"] = json!(country);
        let refused = problem(stack.checkout(&shop, &cart, key, &unassigned).await, 422).await;
        assert_eq!(refused["errors"][0]["field"], "shipping_address.country");
        assert_eq!(
            refused["errors"][0]["message"],
            "must be an ISO 3166-1 alpha-2 country code in capitals, such as CN"
        );
    }

    let mut unknown_rate = good.clone();
    unknown_rate["shipping_rate_id"] = json!(Uuid::now_v7());
    let refused = problem(
        stack.checkout(&shop, &cart, "bad-3", &unknown_rate).await,
        422,
    )
    .await;
    assert_eq!(refused["errors"][0]["field"], "shipping_rate_id");

    let no_key = stack
        .order
        .client
        .post(stack.order.url(&path))
        .header("X-Cart-Token", &cart.1)
        .json(&good)
        .send()
        .await
        .unwrap();
    let refused = problem(no_key, 422).await;
    assert_eq!(refused["errors"][0]["field"], "Idempotency-Key");

    let mut extra = good.clone();
    extra["discount"] = json!(100);
    problem(stack.checkout(&shop, &cart, "bad-4", &extra).await, 422).await;
    let malformed = stack
        .order
        .client
        .post(stack.order.url(&path))
        .header("Idempotency-Key", "bad-5")
        .header("content-type", "application/json")
        .body("{\"cart_id\": ")
        .send()
        .await
        .unwrap();
    problem(malformed, 400).await;

    // Someone else's cart id without its token does not exist.
    let stranger = stack
        .order
        .client
        .post(stack.order.url(&path))
        .header("Idempotency-Key", "bad-6")
        .json(&good)
        .send()
        .await
        .unwrap();
    problem(stranger, 404).await;

    // Cart lines: bad quantities and unknown variants.
    let lines = format!("/v1/shops/{}/carts/{}/lines", shop.slug, cart.0);
    for (body, field) in [
        (
            json!({"variant_id": shop.variant, "quantity": 0}),
            "quantity",
        ),
        (
            json!({"variant_id": shop.variant, "quantity": 10001}),
            "quantity",
        ),
        (
            json!({"variant_id": Uuid::now_v7(), "quantity": 1}),
            "variant_id",
        ),
    ] {
        let response = stack
            .order
            .client
            .post(stack.order.url(&lines))
            .header("X-Cart-Token", &cart.1)
            .json(&body)
            .send()
            .await
            .unwrap();
        let refused = problem(response, 422).await;
        assert_eq!(refused["errors"][0]["field"], field);
    }
    let currency = stack
        .order
        .post(
            &format!("/v1/shops/{}/carts", shop.slug),
            &json!({"currency": "EUR"}),
        )
        .await;
    assert_eq!(
        problem(currency, 422).await["errors"][0]["field"],
        "currency"
    );
    problem(
        stack
            .order
            .post("/v1/shops/no-such-shop/carts", &json!({}))
            .await,
        404,
    )
    .await;

    // A query value that is not what it should be is an invalid value too.
    for query in ["limit=abc", "from=yesterday", "status=shipped"] {
        let refused = problem(
            stack
                .order
                .get_with(&shop.owner, &format!("/v1/orders?{query}"))
                .await,
            422,
        )
        .await;
        assert!(
            !refused["errors"].as_array().unwrap().is_empty(),
            "{query}: {refused}"
        );
    }

    // Nothing was ordered and nothing is held.
    assert_eq!(stack.stock(&shop, shop.variant).await, (5, 0));
    let orders: Value = stack
        .order
        .get_with(&shop.owner, "/v1/orders")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(orders["items"].as_array().unwrap().len(), 0);
    // And the good request still works.
    assert_eq!(
        stack.checkout(&shop, &cart, "good", &good).await.status(),
        201
    );
}

#[tokio::test]
async fn unpaid_orders_expire_and_release_their_stock() {
    let stack = spawn_stack().await;
    let shop = stack.shop(4).await;
    let order = stack.place_order(&shop, 3, &unique_email("buyer")).await;
    stack.wait_for_stock(&shop, shop.variant, (4, 3)).await;
    let expires: chrono::DateTime<chrono::Utc> =
        order["expires_at"].as_str().unwrap().parse().unwrap();
    let minutes = (expires - chrono::Utc::now()).num_minutes();
    assert!(
        (29..=30).contains(&minutes),
        "default window is 30 minutes, got {minutes}"
    );

    // Half an hour passes.
    stack
        .order_sql(&format!(
            "UPDATE orders SET expires_at = now() - interval '1 second' WHERE id = '{id}'; \
             UPDATE order_deadlines SET due_at = now() - interval '1 second' WHERE order_id = '{id}'",
            id = order["id"].as_str().unwrap()
        ))
        .await;
    stack.wait_for_stock(&shop, shop.variant, (4, 0)).await;
    let staff: Value = stack
        .order
        .get_with(
            &shop.owner,
            &format!("/v1/orders/{}", order["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(staff["status"], "expired");
    let late = problem(stack.pay(&shop, &order, "4242424242424242").await, 409).await;
    assert_eq!(
        late["errors"][0],
        json!({"field": "status", "message": "expired"})
    );
    let timeline: Value = stack
        .order
        .get_with(
            &shop.owner,
            &format!("/v1/orders/{}/timeline", order["id"].as_str().unwrap()),
        )
        .await
        .json()
        .await
        .unwrap();
    let actions: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["placed", "expired"]);
}

#[tokio::test]
async fn a_reservation_whose_order_was_never_written_is_released() {
    let stack = spawn_stack().await;
    let shop = stack.shop(6).await;
    // A checkout that reserved and then died: the deadline is all that is left.
    let orphan = Uuid::now_v7();
    let token = stack.tenant.keys.service("order");
    let reserved = stack
        .catalog
        .post_with(
            &token,
            "/internal/v1/reservations",
            &json!({"tenant_id": shop.id, "order_id": orphan, "lines": [{"variant_id": shop.variant, "quantity": 4}]}),
        )
        .await;
    assert_eq!(reserved.status(), 201);
    stack
        .order_sql(&format!(
            "INSERT INTO order_deadlines (order_id, tenant_id, due_at) VALUES ('{orphan}', '{}', now())",
            shop.id
        ))
        .await;
    stack.wait_for_stock(&shop, shop.variant, (6, 0)).await;
}

/// The buyer's routes are for people: an app's or a service's token is refused
/// (403), a token that does not verify too (401, never taken for a guest), and no
/// token at all is a guest. An order's token shows the order whatever bearer token
/// comes with it.
#[tokio::test]
async fn buyer_routes_refuse_apps_and_bad_tokens_and_serve_guests() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let app = stack.tenant.keys.member(
        shop.id,
        caravan_shared::identity::Role::App,
        &["orders:read", "orders:write"],
    );
    let service = stack.tenant.keys.service("catalog");
    let carts = format!("/v1/shops/{}/carts", shop.slug);
    let orders = format!("/v1/shops/{}/orders", shop.slug);
    for token in [&app, &service] {
        for answer in [
            stack.order.post_with(token, &carts, &json!({})).await,
            stack.order.get_with(token, &orders).await,
        ] {
            let refused = problem(answer, 403).await;
            assert_eq!(
                refused["detail"], "this is for people; apps use the staff API",
                "{refused}"
            );
        }
    }
    problem(
        stack
            .order
            .post_with("not-a-token", &carts, &json!({}))
            .await,
        401,
    )
    .await;
    problem(stack.order.get_with("not-a-token", &orders).await, 401).await;
    problem(stack.order.get(&orders).await, 401).await;
    assert_eq!(stack.order.post(&carts, &json!({})).await.status(), 201);

    let order = stack.place_order(&shop, 1, &unique_email("buyer")).await;
    let path = format!("{orders}/{}", order["id"].as_str().unwrap());
    let read = |bearer: Option<&'static str>| {
        let mut request = stack
            .order
            .client
            .get(stack.order.url(&path))
            .header("X-Order-Token", order["access_token"].as_str().unwrap());
        if let Some(bearer) = bearer {
            request = request.bearer_auth(bearer);
        }
        request.send()
    };
    assert_eq!(read(None).await.unwrap().status(), 200);
    // With the order's token, the bearer token is not needed and not looked at.
    assert_eq!(read(Some("not-a-token")).await.unwrap().status(), 200);
}
