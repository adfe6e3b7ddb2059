use crate::helpers::{PASSWORD, problem, spawn_app, unique_email};
use serde_json::Value;

#[tokio::test]
async fn rotation_keeps_old_tokens_valid_and_unknown_keys_fail() {
    let auth = spawn_app().await;
    let email = unique_email("rotate");
    auth.verified_user(&email).await;
    let before = auth.tokens(&email, PASSWORD, None).await;
    let old_access = before["access_token"].as_str().unwrap().to_owned();

    let jwks: Value = auth
        .app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["alg"], "EdDSA");

    let operator = auth.operator_token().await;
    let refused = auth
        .post_as(old_access.as_str(), "/v1/auth/keys/rotate", &Value::Null)
        .await;
    assert_eq!(refused.status(), 403);
    let rotated = auth
        .post_as(&operator, "/v1/auth/keys/rotate", &Value::Null)
        .await;
    assert_eq!(rotated.status(), 201);
    let kid = rotated.json::<Value>().await.unwrap()["kid"]
        .as_str()
        .unwrap()
        .to_owned();

    let jwks: Value = auth
        .app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2);
    assert_eq!(jwks["keys"][0]["kid"], kid);

    // Signed with the previous key: still verifies.
    assert_eq!(auth.get_as(&old_access, "/v1/auth/me").await.status(), 200);
    // Signed with the new key: verifies (the verifier fetches the new key).
    let after = auth.tokens(&email, PASSWORD, None).await;
    let new_access = after["access_token"].as_str().unwrap();
    assert_eq!(crate::helpers::claims(new_access)["iss"], "caravan-auth");
    assert_eq!(auth.get_as(new_access, "/v1/auth/me").await.status(), 200);
    // Signed with a key that was never published: refused.
    let stranger = auth.app.keys.member(
        uuid::Uuid::now_v7(),
        caravan_shared::identity::Role::Owner,
        &[],
    );
    problem(auth.get_as(&stranger, "/v1/auth/me").await, 401).await;
}
