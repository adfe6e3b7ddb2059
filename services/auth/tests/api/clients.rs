use crate::helpers::{claims, spawn_app, unique_slug};
use serde_json::{Value, json};

async fn token_form(auth: &crate::helpers::AuthApp, form: &[(&str, &str)]) -> reqwest::Response {
    auth.app
        .client
        .post(auth.app.url("/v1/auth/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(form).unwrap())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn app_clients_get_tenant_bound_tokens_with_their_scopes_until_revoked() {
    let auth = spawn_app().await;
    let (tenant, _owner, owner_tokens) = auth.shop_with_owner(&unique_slug("kashgar")).await;
    let owner = owner_tokens["access_token"].as_str().unwrap();

    let created = auth
        .post_with(
            owner,
            "/v1/auth/clients",
            &json!({"name": "Logistics sync", "scopes": ["orders:read", "catalog:read"]}),
        )
        .await;
    assert_eq!(created.status(), 201);
    let client: Value = created.json().await.unwrap();
    let client_id = client["client_id"].as_str().unwrap();
    let secret = client["client_secret"].as_str().unwrap();

    let issued = token_form(
        &auth,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(issued.status(), 200);
    let issued: Value = issued.json().await.unwrap();
    assert_eq!(issued["scope"], "catalog:read orders:read");
    let app_claims = claims(issued["access_token"].as_str().unwrap());
    assert_eq!(app_claims["role"], "app");
    assert_eq!(app_claims["tid"], tenant.to_string());
    assert_eq!(app_claims["sub"], client_id);

    // JSON works too, and a subset of scopes may be asked for.
    let narrowed: Value = auth
        .post(
            "/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "orders:read"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(narrowed["scope"], "orders:read");

    let too_much = auth
        .post(
            "/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, "scope": "orders:write"}),
        )
        .await;
    assert_eq!(too_much.status(), 400);
    assert_eq!(
        too_much.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );

    let wrong_secret = token_form(
        &auth,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", "nope"),
        ],
    )
    .await;
    assert_eq!(wrong_secret.status(), 401);
    assert_eq!(
        wrong_secret.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );

    let wrong_grant = token_form(&auth, &[("grant_type", "password")]).await;
    assert_eq!(
        wrong_grant.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );

    // The secret is never shown again.
    let listed: Value = auth
        .get_with(owner, "/v1/auth/clients")
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(listed[0].get("client_secret").is_none());

    // Revoked by its public client id (its `id` works as well, see below).
    assert_eq!(
        auth.delete_with(owner, &format!("/v1/auth/clients/{client_id}"))
            .await
            .status(),
        204
    );
    assert_eq!(
        auth.delete_with(
            owner,
            &format!("/v1/auth/clients/{}", client["id"].as_str().unwrap())
        )
        .await
        .status(),
        404,
        "already revoked"
    );
    let revoked = token_form(
        &auth,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", secret),
        ],
    )
    .await;
    assert_eq!(revoked.status(), 401);
}

#[tokio::test]
async fn another_shop_cannot_see_or_revoke_a_shops_clients() {
    let auth = spawn_app().await;
    let (_a, _owner_a, tokens_a) = auth.shop_with_owner(&unique_slug("shop-a")).await;
    let (_b, _owner_b, tokens_b) = auth.shop_with_owner(&unique_slug("shop-b")).await;
    let owner_a = tokens_a["access_token"].as_str().unwrap();
    let owner_b = tokens_b["access_token"].as_str().unwrap();
    let client: Value = auth
        .post_with(
            owner_a,
            "/v1/auth/clients",
            &json!({"name": "A's app", "scopes": ["catalog:read"]}),
        )
        .await
        .json()
        .await
        .unwrap();

    let seen_by_b: Value = auth
        .get_with(owner_b, "/v1/auth/clients")
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    assert_eq!(seen_by_b, json!([]));
    let id = client["id"].as_str().unwrap();
    let revoke = auth
        .delete_with(owner_b, &format!("/v1/auth/clients/{id}"))
        .await;
    assert_eq!(revoke.status(), 404, "existence is not disclosed");
    let by_client_id = auth
        .delete_with(
            owner_b,
            &format!("/v1/auth/clients/{}", client["client_id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(by_client_id.status(), 404, "existence is not disclosed");
    let unknown = auth
        .delete_with(
            owner_b,
            &format!("/v1/auth/clients/{}", uuid::Uuid::now_v7()),
        )
        .await;
    assert_eq!(unknown.status(), 404);
    let still: Value = auth
        .get_with(owner_a, "/v1/auth/clients")
        .await
        .json::<Value>()
        .await
        .unwrap()["items"]
        .take();
    assert!(still[0]["revoked_at"].is_null());
}

#[tokio::test]
async fn services_get_service_tokens_with_the_shared_secret() {
    let auth = spawn_app().await;
    let issued: Value = auth
        .post(
            "/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": "service:catalog",
                    "client_secret": caravan_shared::testing::test_service_secret()}),
        )
        .await
        .json()
        .await
        .unwrap();
    let service_claims = claims(issued["access_token"].as_str().unwrap());
    assert_eq!(service_claims["role"], "service");
    assert!(service_claims.get("tid").is_none());
    let refused = auth
        .post(
            "/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": "service:catalog", "client_secret": "guess"}),
        )
        .await;
    assert_eq!(refused.status(), 401);
    let unknown_service = auth
        .post(
            "/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": "service:anything",
                    "client_secret": caravan_shared::testing::test_service_secret()}),
        )
        .await;
    assert_eq!(
        unknown_service.status(),
        401,
        "only Caravan's own services get service tokens"
    );
}

#[tokio::test]
async fn service_credentials_are_refused_from_outside_the_platform() {
    let auth = spawn_app().await;
    let grant = json!({"grant_type": "client_credentials", "client_id": "service:catalog",
                       "client_secret": caravan_shared::testing::test_service_secret()});
    // The right secret, through the gateway: refused like a wrong one.
    let outside = auth
        .app
        .client
        .post(auth.app.url("/v1/auth/token"))
        .header(caravan_shared::http::GATEWAY_HEADER, "1")
        .json(&grant)
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 401);
    assert_eq!(
        outside.json::<Value>().await.unwrap()["error"],
        "invalid_client"
    );
    // As a form too.
    let form = auth
        .app
        .client
        .post(auth.app.url("/v1/auth/token"))
        .header(caravan_shared::http::GATEWAY_HEADER, "1")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(
            serde_urlencoded::to_string([
                ("grant_type", "client_credentials"),
                ("client_id", "service:order"),
                (
                    "client_secret",
                    caravan_shared::testing::test_service_secret(),
                ),
            ])
            .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 401);
    // The same request from inside the platform works.
    let inside = auth.post("/v1/auth/token", &grant).await;
    assert_eq!(inside.status(), 200);
}

#[tokio::test]
async fn revoking_an_app_client_ends_the_tokens_it_has() {
    let auth = spawn_app().await;
    let (_tenant, _owner, owner_tokens) = auth.shop_with_owner(&unique_slug("aksu")).await;
    let owner = owner_tokens["access_token"].as_str().unwrap();
    let client: Value = auth
        .post_with(
            owner,
            "/v1/auth/clients",
            &json!({"name": "Accounting export", "scopes": ["orders:read"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let issued: Value = auth
        .post(
            "/v1/auth/token",
            &json!({"grant_type": "client_credentials", "client_id": client["client_id"],
                    "client_secret": client["client_secret"]}),
        )
        .await
        .json()
        .await
        .unwrap();
    let app_token = issued["access_token"].as_str().unwrap();
    // Authenticated (an app has no account, hence 403, not 401).
    assert_eq!(auth.get_with(app_token, "/v1/auth/me").await.status(), 403);

    let revoked = auth
        .delete_with(
            owner,
            &format!("/v1/auth/clients/{}", client["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(revoked.status(), 204);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
    while auth.get_with(app_token, "/v1/auth/me").await.status() != 401 {
        assert!(
            std::time::Instant::now() < deadline,
            "the revoked client's token still works"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // The owner's own session is not the client's.
    assert_eq!(auth.get_with(owner, "/v1/auth/me").await.status(), 200);
}
