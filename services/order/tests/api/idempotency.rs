//! An `Idempotency-Key` belongs to its caller: a stored answer (an order with its
//! access token, a refund) is replayed to the caller who sent it and to nobody else.

use crate::helpers::{STAFF_SCOPES, Shop, Stack, problem, spawn_stack, unique_email};
use caravan_shared::identity::Role;
use reqwest::Response;
use serde_json::{Value, json};

/// Checkout as `headers` say (cart token, bearer token), with `key` and `body`.
async fn checkout_as(
    stack: &Stack,
    shop: &Shop,
    headers: &[(&str, &str)],
    key: &str,
    body: &Value,
) -> Response {
    let mut request = stack
        .order
        .client
        .post(
            stack
                .order
                .url(&format!("/v1/shops/{}/checkout", shop.slug)),
        )
        .header("Idempotency-Key", key)
        .json(body);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap()
}

/// Fails unless the answer is a problem with `status` holding nothing of `order`:
/// not its access token, and not even its id unless the caller holds the cart's
/// token (the cart's own answers say which order it became).
async fn sees_nothing_of(response: Response, status: u16, order: &Value) -> String {
    assert_eq!(response.status(), status);
    let text = response.text().await.unwrap();
    let problem: Value = serde_json::from_str(&text).unwrap();
    assert!(problem["code"].is_string(), "{text}");
    assert!(problem.get("access_token").is_none(), "{text}");
    let mut hidden = vec![&order["access_token"]];
    if status != 409 {
        hidden.push(&order["id"]);
    }
    for secret in hidden {
        assert!(
            !text.contains(secret.as_str().unwrap()),
            "the answer shows {secret}: {text}"
        );
    }
    text
}

async fn assert_same_order(response: Response, order: &Value) {
    assert_eq!(response.status(), 201);
    let again: Value = response.json().await.unwrap();
    assert_eq!(again["id"], order["id"]);
    assert_eq!(again["access_token"], order["access_token"]);
}

#[tokio::test]
async fn a_checkout_replay_without_the_carts_token_gets_nothing_of_the_order() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let cart = stack.cart(&shop, 1).await;
    let rate = stack.rate_for(&shop, &cart).await;
    let body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    let first = stack.checkout(&shop, &cart, "order-7f3a", &body).await;
    assert_eq!(first.status(), 201);
    let order: Value = first.json().await.unwrap();

    // The same key and body without the token: the cart does not exist for this caller.
    let replay = checkout_as(&stack, &shop, &[], "order-7f3a", &body).await;
    let text = sees_nothing_of(replay, 404, &order).await;
    assert!(text.contains("no such cart"), "{text}");

    // The buyer's own retry still answers the first answer.
    assert_same_order(
        stack.checkout(&shop, &cart, "order-7f3a", &body).await,
        &order,
    )
    .await;
    assert_eq!(stack.stock(&shop, shop.variant).await, (10, 1));
}

#[tokio::test]
async fn a_checkout_replay_with_another_carts_token_gets_nothing_of_the_order() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let cart = stack.cart(&shop, 1).await;
    let rate = stack.rate_for(&shop, &cart).await;
    let body = stack.checkout_body(&cart, &rate, &unique_email("buyer"));
    let first = stack.checkout(&shop, &cart, "shared-key", &body).await;
    assert_eq!(first.status(), 201);
    let order: Value = first.json().await.unwrap();

    let theirs = stack.cart(&shop, 1).await;
    let replay = checkout_as(
        &stack,
        &shop,
        &[("X-Cart-Token", &theirs.1)],
        "shared-key",
        &body,
    )
    .await;
    sees_nothing_of(replay, 404, &order).await;

    // Keys are per cart and caller: the other buyer's own checkout with the same key
    // is a checkout of its own, not a reuse of someone else's key.
    let their_body = stack.checkout_body(&theirs, &rate, &unique_email("other"));
    let own = stack
        .checkout(&shop, &theirs, "shared-key", &their_body)
        .await;
    assert_eq!(own.status(), 201);
    let own: Value = own.json().await.unwrap();
    assert_ne!(own["id"], order["id"]);

    assert_same_order(
        stack.checkout(&shop, &cart, "shared-key", &body).await,
        &order,
    )
    .await;
    assert_eq!(stack.stock(&shop, shop.variant).await, (10, 2));
}

#[tokio::test]
async fn a_checkout_replay_by_another_customer_gets_nothing_of_the_order() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let alice = stack.tenant.keys.member(shop.id, Role::Customer, &[]);
    let bob = stack.tenant.keys.member(shop.id, Role::Customer, &[]);

    // Alice's cart belongs to her account.
    let cart: Value = stack
        .order
        .post_with(
            &alice,
            &format!("/v1/shops/{}/carts", shop.slug),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cart["customer"], true);
    let cart = (
        cart["id"].as_str().unwrap().to_owned(),
        cart["token"].as_str().unwrap().to_owned(),
    );
    let added = stack
        .order
        .post_with(
            &alice,
            &format!("/v1/shops/{}/carts/{}/lines", shop.slug, cart.0),
            &json!({"variant_id": shop.variant, "quantity": 1}),
        )
        .await;
    assert_eq!(added.status(), 200);
    let rate = stack.rate_for(&shop, &cart).await;
    let body = stack.checkout_body(&cart, &rate, &unique_email("alice"));
    let bearer_alice = format!("Bearer {alice}");
    let as_alice = [("Authorization", bearer_alice.as_str())];
    let first = checkout_as(&stack, &shop, &as_alice, "alice-1", &body).await;
    assert_eq!(first.status(), 201);
    let order: Value = first.json().await.unwrap();

    // Bob, signed in, with Alice's key and body: her cart is not his.
    let bearer_bob = format!("Bearer {bob}");
    let as_bob = [("Authorization", bearer_bob.as_str())];
    sees_nothing_of(
        checkout_as(&stack, &shop, &as_bob, "alice-1", &body).await,
        404,
        &order,
    )
    .await;
    // A bearer token that does not verify.
    sees_nothing_of(
        checkout_as(
            &stack,
            &shop,
            &[("Authorization", "Bearer not-a-token")],
            "alice-1",
            &body,
        )
        .await,
        401,
        &order,
    )
    .await;
    // Even holding the cart's token, Bob (or a guest) is not Alice: the key is hers,
    // and for them the cart is simply spent.
    for headers in [
        vec![
            ("Authorization", bearer_bob.as_str()),
            ("X-Cart-Token", cart.1.as_str()),
        ],
        vec![("X-Cart-Token", cart.1.as_str())],
    ] {
        let text = sees_nothing_of(
            checkout_as(&stack, &shop, &headers, "alice-1", &body).await,
            409,
            &order,
        )
        .await;
        assert!(text.contains("cart_checked_out"), "{text}");
    }

    // Alice's own retry answers the first answer.
    assert_same_order(
        checkout_as(&stack, &shop, &as_alice, "alice-1", &body).await,
        &order,
    )
    .await;
    assert_eq!(stack.stock(&shop, shop.variant).await, (10, 1));
}

#[tokio::test]
async fn a_refund_key_is_replayed_only_to_the_caller_who_sent_it() {
    let stack = spawn_stack().await;
    let shop = stack.shop(10).await;
    let other_shop = stack.shop(10).await;
    let order = stack.paid_order(&shop, 2).await;
    let path = format!("/v1/orders/{}/refunds", order["id"].as_str().unwrap());
    let partial = json!({"amount": {"amount": 2000, "currency": "CNY"}, "reason": "一盒破损"});
    let refund = |token: String| {
        stack
            .order
            .client
            .post(stack.order.url(&path))
            .bearer_auth(token)
            .header("Idempotency-Key", "refund-1")
            .json(&partial)
            .send()
    };

    let first = refund(shop.owner.clone()).await.unwrap();
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.unwrap();
    assert_eq!(first["refunded"]["amount"], 2000);

    // Another shop's staff with the same key: the order does not exist for them.
    problem(refund(other_shop.owner.clone()).await.unwrap(), 404).await;
    // A colleague sending the same key and body makes a request of their own: it is
    // carried out, not answered with the owner's stored answer.
    let colleague = stack.tenant.keys.member(shop.id, Role::Staff, STAFF_SCOPES);
    let theirs = refund(colleague).await.unwrap();
    assert_eq!(theirs.status(), 200);
    let theirs: Value = theirs.json().await.unwrap();
    assert_eq!(theirs["refunded"]["amount"], 4000);

    // The owner's retry answers the first answer and refunds nothing more.
    let retry = refund(shop.owner.clone()).await.unwrap();
    assert_eq!(retry.status(), 200);
    let retry: Value = retry.json().await.unwrap();
    assert_eq!(retry, first);
    let now = stack.staff_view(&shop, &order).await;
    assert_eq!(now["refunded"]["amount"], 4000);
}
