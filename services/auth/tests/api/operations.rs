use crate::helpers::{spawn_app, unique_email, unique_slug};
use caravan_shared::testing::problem;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

#[tokio::test]
async fn the_service_answers_its_operational_endpoints() {
    let auth = spawn_app().await;
    auth.app.assert_operational_endpoints("auth").await;
}

/// Moves the shop to a plan of four staff seats, and waits until auth knows it.
async fn on_a_plan_of_four_staff(auth: &crate::helpers::AuthApp, shop: uuid::Uuid, slug: &str) {
    auth.shops
        .publish(
            "tenant.plan_changed",
            Some(shop),
            json!({"slug": slug, "plan": "standard",
                   "quotas": {"max_products": null, "max_staff": 4, "max_orders_per_month": null}}),
        )
        .await
        .unwrap();
    // Read as the database's owner, past row-level security.
    let auth_db = caravan_shared::db::connect(&auth.app.database.owner_url, 1)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(5);
    while caravan_shared::tenant_status::shop(&auth_db, shop.into())
        .await
        .unwrap()
        .and_then(|shop| shop.quotas.max_staff)
        != Some(4)
    {
        assert!(Instant::now() < deadline, "the plan change never arrived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn operators_read_the_staff_seats_each_shop_uses_and_the_total() {
    let auth = spawn_app().await;
    let slug_a = unique_slug("seats-a");
    let (shop_a, _, tokens_a) = auth.shop_with_owner(&slug_a).await;
    let (shop_b, _, tokens_b) = auth.shop_with_owner(&unique_slug("seats-b")).await;
    let owner_a = tokens_a["access_token"].as_str().unwrap();
    let owner_b = tokens_b["access_token"].as_str().unwrap();

    // Shop A: its owner, a staff member who joined, an open invitation, and one
    // revoked (which the quota no longer counts).
    auth.join(owner_a, &unique_email("aziz"), "staff").await;
    auth.invite(owner_a, &unique_email("open"), "staff").await;
    let (revoked, _) = auth
        .invite(owner_a, &unique_email("revoked"), "staff")
        .await;
    let revoking = auth
        .delete_with(owner_a, &format!("/v1/auth/invitations/{revoked}"))
        .await;
    assert_eq!(revoking.status(), 204);
    // Shop B: its owner and an open invitation.
    auth.invite(owner_b, &unique_email("ayse"), "owner").await;

    let operator = auth.operator_token().await;
    let usage = |query: String| {
        let auth = &auth;
        let operator = operator.clone();
        async move {
            auth.get_with(&operator, &format!("/v1/operations/auth/usage{query}"))
                .await
        }
    };
    let a: Value = usage(format!("?tenant_id={shop_a}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        a,
        json!({"tenant_id": shop_a, "counts": {"staff": 3}, "sales": []})
    );
    let b: Value = usage(format!("?tenant_id={shop_b}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(b["counts"], json!({"staff": 2}));
    let total: Value = usage(String::new()).await.json().await.unwrap();
    assert_eq!(
        total,
        json!({"tenant_id": null, "counts": {"staff": 5}, "sales": []})
    );

    // What the operator reads is what the quota check counts: on a plan of 4 staff,
    // shop A (3 used) may invite one more, and then no one.
    on_a_plan_of_four_staff(&auth, shop_a, &slug_a).await;
    auth.invite(owner_a, &unique_email("fourth"), "staff").await;
    let a: Value = usage(format!("?tenant_id={shop_a}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(a["counts"], json!({"staff": 4}));
    let over = auth
        .post_with(
            owner_a,
            "/v1/auth/invitations",
            &json!({"email": unique_email("fifth"), "role": "staff"}),
        )
        .await;
    assert_eq!(problem(over, 403).await["code"], "quota_exceeded");
}

#[tokio::test]
async fn usage_is_for_operators_and_takes_a_shop_id() {
    let auth = spawn_app().await;
    let (shop, _, tokens) = auth.shop_with_owner(&unique_slug("nosy")).await;
    let owner = tokens["access_token"].as_str().unwrap();
    let path = format!("/v1/operations/auth/usage?tenant_id={shop}");

    let refused = auth.get_with(owner, &path).await;
    assert_eq!(problem(refused, 403).await["code"], "forbidden");
    let anonymous = auth
        .app
        .client
        .get(auth.app.url(&path))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);

    let operator = auth.operator_token().await;
    let malformed = auth
        .get_with(&operator, "/v1/operations/auth/usage?tenant_id=shop-a")
        .await;
    let malformed = problem(malformed, 422).await;
    assert_eq!(malformed["errors"][0]["field"], "tenant_id");
    let unknown = auth
        .get_with(
            &operator,
            &format!(
                "/v1/operations/auth/usage?tenant_id={}",
                uuid::Uuid::now_v7()
            ),
        )
        .await;
    assert_eq!(problem(unknown, 404).await["code"], "not_found");
}

#[tokio::test]
async fn parallel_invitations_take_exactly_the_seats_the_plan_has_left() {
    let auth = spawn_app().await;
    let slug = unique_slug("seats-race");
    let (shop, _, tokens) = auth.shop_with_owner(&slug).await;
    let owner = tokens["access_token"].as_str().unwrap();
    on_a_plan_of_four_staff(&auth, shop, &slug).await;

    // The owner holds one of four seats; ten invitations are sent at once.
    let bodies: Vec<Value> = (0..10)
        .map(|n| json!({"email": unique_email(&format!("racer{n}")), "role": "staff"}))
        .collect();
    let answers = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| auth.post_with(owner, "/v1/auth/invitations", body)),
    )
    .await;
    let mut invited = 0;
    for answer in answers {
        match answer.status().as_u16() {
            201 => invited += 1,
            403 => assert_eq!(problem(answer, 403).await["code"], "quota_exceeded"),
            other => panic!("{other}: {}", answer.text().await.unwrap()),
        }
    }
    assert_eq!(invited, 3);
}
