use crate::helpers::{problem, spawn_stack_with, unique_email};
use caravan_shared::testing::wait_for_mail;
use serde_json::{Value, json};

const PASSWORD: &str = "Tianshan-apricots-2026";

/// A verified customer account, logged in; answers its access token.
async fn customer(auth: &caravan_shared::testing::TestApp, email: &str) -> String {
    let registered = auth
        .client
        .post(auth.url("/v1/auth/register"))
        .json(&json!({"email": email, "password": PASSWORD, "display_name": "Aliya"}))
        .send()
        .await
        .unwrap();
    assert_eq!(registered.status(), 201);
    let mail = wait_for_mail(email, 1).await.unwrap();
    let verified = auth
        .client
        .post(auth.url("/v1/auth/verify-email"))
        .json(&json!({"token": mail[0].token().unwrap()}))
        .send()
        .await
        .unwrap();
    assert_eq!(verified.status(), 204);
    let login: Value = auth
        .client
        .post(auth.url("/v1/auth/login"))
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["access_token"]
        .as_str()
        .unwrap_or_else(|| panic!("{login}"))
        .to_owned()
}

#[tokio::test]
async fn the_buyer_journey_against_real_auth_and_catalog_services() {
    let stack = spawn_stack_with(true, &[]).await;
    let auth = stack.auth.as_ref().unwrap();

    // The shop opens; its owner accepts the emailed invitation.
    let owner_email = unique_email("owner");
    let shop_id = stack.open_shop_for(&owner_email, None).await;
    let slug = stack.wait_for_shop(shop_id).await;
    let invitation = wait_for_mail(&owner_email, 1).await.unwrap();
    let accepted: Value = auth
        .client
        .post(auth.url("/v1/auth/invitations/accept"))
        .json(&json!({"token": invitation[0].token().unwrap(), "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        accepted["access_token"].is_string(),
        "{accepted} {invitation:?}"
    );
    let owner = accepted["access_token"].as_str().unwrap().to_owned();
    let (_, variant) = stack.create_product(&owner, "zhongning-goji", 20).await;
    let zone = stack
        .order
        .post_with(
            &owner,
            "/v1/shipping-zones",
            &json!({
                "name": "Mainland and Kazakhstan", "countries": ["CN", "KZ"],
                "rates": [{"name": "China Post", "price": {"amount": 1500, "currency": "CNY"}}]
            }),
        )
        .await;
    assert_eq!(zone.status(), 201);

    // A buyer registers, verifies the email and logs in; the cart belongs to the account.
    let buyer_email = unique_email("buyer");
    let buyer = customer(auth, &buyer_email).await;
    let cart: Value = stack
        .order
        .client
        .post(stack.order.url(&format!("/v1/shops/{slug}/carts")))
        .bearer_auth(&buyer)
        .header("Accept-Language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cart["customer"], true);
    assert_eq!(cart["locale"], "en-US");
    let cart_id = cart["id"].as_str().unwrap().to_owned();
    let added = stack
        .order
        .post_with(
            &buyer,
            &format!("/v1/shops/{slug}/carts/{cart_id}/lines"),
            &json!({"variant_id": variant, "quantity": 3}),
        )
        .await;
    assert_eq!(added.status(), 200);
    let with_options: Value = stack
        .order
        .get_with(
            &buyer,
            &format!("/v1/shops/{slug}/carts/{cart_id}?country=KZ"),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(with_options["lines"][0]["title"], "Ningxia goji berries");
    let rate = with_options["shipping_options"][0]["rate_id"]
        .as_str()
        .unwrap()
        .to_owned();

    // Another account cannot see the cart.
    let stranger = customer(auth, &unique_email("stranger")).await;
    problem(
        stack
            .order
            .get_with(&stranger, &format!("/v1/shops/{slug}/carts/{cart_id}"))
            .await,
        404,
    )
    .await;

    // Checkout across the border, to Almaty.
    let checkout = stack
        .order
        .client
        .post(stack.order.url(&format!("/v1/shops/{slug}/checkout")))
        .bearer_auth(&buyer)
        .header("Idempotency-Key", "journey-1")
        .json(&json!({
            "cart_id": cart_id, "email": buyer_email, "phone": "+7 701 000 0000",
            "shipping_address": {"country": "KZ", "province": "Almaty", "city": "Almaty", "street": "Abay Ave 10, apt 5", "postal_code": "050000", "recipient": "Aliya Nurlanovna"},
            "shipping_rate_id": rate
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(checkout.status(), 201);
    let order: Value = checkout.json().await.unwrap();
    assert_eq!(
        order["total"],
        json!({"amount": 3 * 6800 + 1500, "currency": "CNY"})
    );
    let id = order["id"].as_str().unwrap().to_owned();

    // The customer pays and reads the order with their own token, no order token.
    let paid = stack
        .order
        .post_with(
            &buyer,
            &format!("/v1/shops/{slug}/orders/{id}/payments"),
            &json!({"provider": "test", "card_number": "4242424242424242"}),
        )
        .await;
    assert_eq!(paid.status(), 200);
    let mine: Value = stack
        .order
        .get_with(&buyer, &format!("/v1/shops/{slug}/orders"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["status"], "paid");
    problem(
        stack
            .order
            .get_with(&stranger, &format!("/v1/shops/{slug}/orders/{id}"))
            .await,
        404,
    )
    .await;
    let theirs: Value = stack
        .order
        .get_with(&stranger, &format!("/v1/shops/{slug}/orders"))
        .await
        .json()
        .await
        .unwrap();
    assert!(theirs["items"].as_array().unwrap().is_empty());

    // The owner, signed in through the real auth service, ships it.
    let shipped = stack
        .order
        .post_with(
            &owner,
            &format!("/v1/orders/{id}/fulfillments"),
            &json!({"carrier": "Kazpost", "tracking_number": "KZ123456789CN"}),
        )
        .await;
    assert_eq!(shipped.status(), 200);
    let mail = wait_for_mail(&buyer_email, 3).await.unwrap();
    assert!(
        mail.iter()
            .any(|m| m.subject.contains("received") && m.text.contains("219.00 CNY")),
        "{mail:?}"
    );
    assert!(
        mail.iter()
            .any(|m| m.subject.contains("has shipped") && m.text.contains("KZ123456789CN")),
        "{mail:?}"
    );
}
