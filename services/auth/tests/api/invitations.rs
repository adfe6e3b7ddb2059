use crate::helpers::{PASSWORD, claims, problem, spawn_app, unique_email, unique_slug};
use caravan_shared::events::Envelope;
use caravan_shared::testing::wait_for_mail;
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn shop_activation_makes_the_owner_once_even_when_delivered_twice() {
    let auth = spawn_app().await;
    let slug = unique_slug("ningxia");
    let owner = unique_email("owner");
    let (tenant, token) = auth.activated_shop(&slug, &owner).await;

    // Deliver the same event again, straight onto the channel.
    let shop_events = caravan_shared::db::connect(&auth.shops.database.runtime_url, 1)
        .await
        .unwrap();
    let event: Envelope = caravan_shared::events::feed::events_after(&shop_events, 0, 10)
        .await
        .unwrap()
        .remove(0);
    let redis = redis::Client::open(auth.app.settings.redis_url.as_str()).unwrap();
    let mut conn = redis.get_multiplexed_async_connection().await.unwrap();
    let channel = caravan_shared::events::channel(&auth.app.settings.redis_prefix, "tenant");
    let _: i64 = redis::cmd("PUBLISH")
        .arg(&channel)
        .arg(serde_json::to_string(&event).unwrap())
        .query_async(&mut conn)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        wait_for_mail(&owner, 1).await.unwrap().len(),
        1,
        "one invitation only"
    );

    let accepted = auth
        .post(
            "/v1/auth/invitations/accept",
            &json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(accepted.status(), 200);
    let tokens: serde_json::Value = accepted.json().await.unwrap();
    let owner_claims = claims(tokens["access_token"].as_str().unwrap());
    assert_eq!(owner_claims["role"], "owner");
    assert_eq!(owner_claims["tid"], tenant.to_string());
    assert!(
        owner_claims["scope"]
            .as_str()
            .unwrap()
            .contains("webhooks:write")
    );

    let me: serde_json::Value = auth
        .get_with(tokens["access_token"].as_str().unwrap(), "/v1/auth/me")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["memberships"].as_array().unwrap().len(), 1);
    assert_eq!(me["memberships"][0]["tenant_slug"], slug);
    assert_eq!(me["memberships"][0]["role"], "owner");
}

#[tokio::test]
async fn an_owner_invites_staff_who_accept_and_log_in_to_the_shop() {
    let auth = spawn_app().await;
    let slug = unique_slug("hotan");
    let (tenant, _owner, owner_tokens) = auth.shop_with_owner(&slug).await;
    let owner_access = owner_tokens["access_token"].as_str().unwrap();

    let staff = unique_email("staff");
    let invited = auth
        .post_with(
            owner_access,
            "/v1/auth/invitations",
            &json!({"email": staff, "role": "staff"}),
        )
        .await;
    assert_eq!(invited.status(), 201);
    let mail = wait_for_mail(&staff, 1).await.unwrap();
    assert!(mail[0].text.contains("/invitations/accept?token="));
    let token = mail[0].token().unwrap();

    let weak = auth
        .post(
            "/v1/auth/invitations/accept",
            &json!({"token": token, "password": "1234567890"}),
        )
        .await;
    assert_eq!(problem(weak, 422).await["errors"][0]["field"], "password");
    let accepted = auth
        .post(
            "/v1/auth/invitations/accept",
            &json!({"token": token, "password": "jujube-orchards-of-hotan", "display_name": "Aziz"}),
        )
        .await;
    assert_eq!(accepted.status(), 200);
    let used = auth
        .post(
            "/v1/auth/invitations/accept",
            &json!({"token": token, "password": "jujube-orchards-of-hotan"}),
        )
        .await;
    assert_eq!(problem(used, 422).await["errors"][0]["field"], "token");

    let staff_tokens = auth
        .tokens(&staff, "jujube-orchards-of-hotan", Some(&slug))
        .await;
    let staff_claims = claims(staff_tokens["access_token"].as_str().unwrap());
    assert_eq!(staff_claims["role"], "staff");
    assert_eq!(staff_claims["tid"], tenant.to_string());
    assert!(
        !staff_claims["scope"]
            .as_str()
            .unwrap()
            .contains("webhooks:write")
    );

    // Staff may not invite.
    let refused = auth
        .post_with(
            staff_tokens["access_token"].as_str().unwrap(),
            "/v1/auth/invitations",
            &json!({"email": unique_email("x")}),
        )
        .await;
    assert_eq!(refused.status(), 403);
}

#[tokio::test]
async fn an_existing_account_joins_with_its_own_password() {
    let auth = spawn_app().await;
    let email = unique_email("existing");
    auth.verified_user(&email).await;
    let (_first_shop, _owner, owner_tokens) = auth.shop_with_owner(&unique_slug("gansu")).await;
    let invited = auth
        .post_with(
            owner_tokens["access_token"].as_str().unwrap(),
            "/v1/auth/invitations",
            &json!({"email": email}),
        )
        .await;
    assert_eq!(invited.status(), 201);
    let mail = wait_for_mail(&email, 2).await.unwrap();
    let token = mail
        .iter()
        .find(|m| m.subject.contains("invited"))
        .unwrap()
        .token()
        .unwrap();
    let wrong = auth
        .post(
            "/v1/auth/invitations/accept",
            &json!({"token": token, "password": "not-my-password"}),
        )
        .await;
    assert_eq!(problem(wrong, 422).await["errors"][0]["field"], "password");
    let joined = auth
        .post(
            "/v1/auth/invitations/accept",
            &json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(joined.status(), 200);
}

#[tokio::test]
async fn an_account_squatting_on_the_owners_email_does_not_get_the_shop() {
    let auth = spawn_app().await;
    let owner = unique_email("coop");
    // Someone registers the cooperative's address first and never verifies it.
    assert_eq!(
        auth.register(&owner, "squatters-own-password")
            .await
            .status(),
        201
    );
    let (tenant, _) = auth.activated_shop(&unique_slug("squat"), &owner).await;
    let mail = wait_for_mail(&owner, 2).await.unwrap();
    let token = mail
        .iter()
        .find(|m| m.subject.contains("invited"))
        .unwrap()
        .token()
        .unwrap();
    // The squatter's password no longer works (and the account is unverified anyway)...
    let squatter = auth.login(&owner, "squatters-own-password", None).await;
    assert_eq!(squatter.status(), 401);
    // ...while the invitation, sent to the real inbox, sets the owner's password.
    let accepted = auth
        .post(
            "/v1/auth/invitations/accept",
            &json!({"token": token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(accepted.status(), 200);
    let tokens: serde_json::Value = accepted.json().await.unwrap();
    assert_eq!(
        claims(tokens["access_token"].as_str().unwrap())["tid"],
        tenant.to_string()
    );
}

async fn pending(auth: &crate::helpers::AuthApp, owner_access: &str) -> Vec<serde_json::Value> {
    let response = auth.get_with(owner_access, "/v1/auth/invitations").await;
    assert_eq!(response.status(), 200);
    let page: serde_json::Value = response.json().await.unwrap();
    assert!(page["next_cursor"].is_null(), "{page}");
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_owner_lists_and_revokes_pending_invitations() {
    let auth = spawn_app().await;
    let slug = unique_slug("kumul");
    let (_, _, owner) = auth.shop_with_owner(&slug).await;
    let owner_access = owner["access_token"].as_str().unwrap();
    let (first, second) = (unique_email("melon"), unique_email("raisin"));
    let (first_id, first_token) = auth.invite(owner_access, &first, "staff").await;
    let (second_id, second_token) = auth.invite(owner_access, &second, "owner").await;

    // The owner's own invitation was accepted: only the two open ones, oldest first.
    let items = pending(&auth, owner_access).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_eq!(items[0]["id"], first_id);
    assert_eq!(items[0]["email"], first);
    assert_eq!(items[0]["role"], "staff");
    assert_eq!(items[1]["id"], second_id);
    assert_eq!(items[1]["role"], "owner");
    let invited_at =
        chrono::DateTime::parse_from_rfc3339(items[0]["invited_at"].as_str().unwrap()).unwrap();
    let expires_at =
        chrono::DateTime::parse_from_rfc3339(items[0]["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires_at - invited_at).num_days(), 7);

    let revoked = auth
        .delete_with(owner_access, &format!("/v1/auth/invitations/{first_id}"))
        .await;
    assert_eq!(revoked.status(), 204);
    let items = pending(&auth, owner_access).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], second_id);

    // The revoked link answers as a link that never was.
    let never = problem(
        auth.post(
            "/v1/auth/invitations/accept",
            &json!({"token": "q8V3bXk0c2F1e9mZ7wR4tY6uI1oP5aS3dF8gH2jK4lQ", "password": PASSWORD}),
        )
        .await,
        422,
    )
    .await;
    let after_revoke = problem(
        auth.post(
            "/v1/auth/invitations/accept",
            &json!({"token": first_token, "password": PASSWORD}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(after_revoke, never);
    assert_eq!(auth.login(&first, PASSWORD, None).await.status(), 401);

    // Revoked already, accepted, or never there: 404, the same answer.
    let again = problem(
        auth.delete_with(owner_access, &format!("/v1/auth/invitations/{first_id}"))
            .await,
        404,
    )
    .await;
    let accepted = auth
        .post(
            "/v1/auth/invitations/accept",
            &json!({"token": second_token, "password": PASSWORD}),
        )
        .await;
    assert_eq!(accepted.status(), 200);
    assert!(pending(&auth, owner_access).await.is_empty());
    let after_accept = problem(
        auth.delete_with(owner_access, &format!("/v1/auth/invitations/{second_id}"))
            .await,
        404,
    )
    .await;
    let unknown = problem(
        auth.delete_with(
            owner_access,
            &format!("/v1/auth/invitations/{}", uuid::Uuid::now_v7()),
        )
        .await,
        404,
    )
    .await;
    assert_eq!(again, unknown);
    assert_eq!(after_accept, unknown);
}
