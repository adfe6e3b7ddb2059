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
        .post_with(old_access.as_str(), "/v1/auth/keys/rotate", &Value::Null)
        .await;
    assert_eq!(refused.status(), 403);
    let rotated = auth
        .post_with(&operator, "/v1/auth/keys/rotate", &Value::Null)
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
    assert_eq!(
        auth.get_with(&old_access, "/v1/auth/me").await.status(),
        200
    );
    // Signed with the new key: verifies (the verifier fetches the new key).
    let after = auth.tokens(&email, PASSWORD, None).await;
    let new_access = after["access_token"].as_str().unwrap();
    assert_eq!(crate::helpers::claims(new_access)["iss"], "caravan-auth");
    assert_eq!(auth.get_with(new_access, "/v1/auth/me").await.status(), 200);
    // Signed with a key that was never published: refused.
    let stranger = auth.app.keys.member(
        uuid::Uuid::now_v7(),
        caravan_shared::identity::Role::Owner,
        &[],
    );
    problem(auth.get_with(&stranger, "/v1/auth/me").await, 401).await;
}

/// Starts another instance of the auth service on the same database (a restart, or
/// another replica), with `overrides`; answers its base URL.
async fn restart(
    auth: &crate::helpers::AuthApp,
    overrides: &[(&str, &str)],
) -> anyhow::Result<String> {
    let port = caravan_shared::testing::reserve_port();
    let url = format!("http://127.0.0.1:{port}");
    let bind = format!("127.0.0.1:{port}");
    let mut settings: Vec<(&str, &str)> = vec![
        ("BIND", &bind),
        ("AUTH_URL", &url),
        ("TENANT_URL", &auth.shops.address),
    ];
    settings.extend_from_slice(overrides);
    let settings = caravan_shared::testing::settings(
        caravan_shared::config::ServiceName::Auth,
        &auth.app.database,
        &auth.app.keys,
        &settings,
    )?;
    let application = caravan_auth::startup::build(settings).await?;
    tokio::spawn(application.run_until_stopped());
    Ok(url)
}

async fn stored_keys(
    auth: &crate::helpers::AuthApp,
) -> Vec<(String, Option<Vec<u8>>, Option<Vec<u8>>)> {
    use sea_orm::ConnectionTrait;
    let owner = caravan_shared::db::connect(&auth.app.database.owner_url, 1)
        .await
        .unwrap();
    let rows = owner
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT kid, pkcs8, sealed FROM signing_keys ORDER BY created_at",
        ))
        .await
        .unwrap();
    let keys = rows
        .iter()
        .map(|row| {
            (
                row.try_get::<String>("", "kid").unwrap(),
                row.try_get::<Option<Vec<u8>>>("", "pkcs8").unwrap(),
                row.try_get::<Option<Vec<u8>>>("", "sealed").unwrap(),
            )
        })
        .collect();
    owner.close().await.unwrap();
    keys
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

#[tokio::test]
async fn signing_keys_are_stored_encrypted_and_open_only_with_the_same_key() {
    use caravan_auth::keys::EncryptionKey;
    use caravan_shared::identity::SigningKey;
    let auth = spawn_app().await;
    let email = unique_email("sealed");
    auth.verified_user(&email).await;
    let before = auth.tokens(&email, PASSWORD, None).await;
    let access = before["access_token"].as_str().unwrap().to_owned();

    // The stored bytes are not the key, and hold neither it nor its private half.
    let stored = stored_keys(&auth).await;
    assert_eq!(stored.len(), 1);
    let (kid, plain, sealed) = &stored[0];
    assert!(plain.is_none(), "the key is stored in plain");
    let sealed = sealed.as_ref().unwrap();
    assert!(SigningKey::from_pkcs8(sealed).is_err());
    let encryption =
        EncryptionKey::parse(caravan_shared::testing::test_signing_key_encryption_key()).unwrap();
    let pkcs8 = encryption.open(kid, sealed).unwrap();
    let key = SigningKey::from_pkcs8(&pkcs8).unwrap();
    assert_eq!(key.kid(), kid);
    assert_eq!(
        jsonwebtoken::decode_header(&access).unwrap().kid.as_deref(),
        Some(kid.as_str()),
        "the stored key is the one that signs"
    );
    assert!(!contains(sealed, &pkcs8));
    // An Ed25519 PKCS#8 document holds the 32-byte private seed at offset 16.
    assert!(!contains(sealed, &pkcs8[16..48]));

    // A restart with the same key keeps verifying the tokens issued before.
    let again = restart(&auth, &[]).await.unwrap();
    let me = auth
        .app
        .client
        .get(format!("{again}/v1/auth/me"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 200);

    // A key stored in plain (before keys were encrypted) is encrypted at start.
    let legacy = SigningKey::generate().unwrap();
    {
        use sea_orm::ConnectionTrait;
        let owner = caravan_shared::db::connect(&auth.app.database.owner_url, 1)
            .await
            .unwrap();
        owner
            .execute_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "INSERT INTO signing_keys (kid, pkcs8) VALUES ($1, $2)",
                [legacy.kid().into(), legacy.pkcs8().to_vec().into()],
            ))
            .await
            .unwrap();
        owner.close().await.unwrap();
    }
    let third = restart(&auth, &[]).await.unwrap();
    let stored = stored_keys(&auth).await;
    let (_, plain, sealed) = stored
        .iter()
        .find(|(stored_kid, _, _)| stored_kid == legacy.kid())
        .unwrap();
    assert!(plain.is_none(), "the plain key was left in place");
    let sealed = sealed.as_ref().unwrap();
    assert!(!contains(sealed, legacy.pkcs8()));
    assert_eq!(
        encryption.open(legacy.kid(), sealed).unwrap(),
        legacy.pkcs8()
    );
    let jwks: Value = auth
        .app
        .client
        .get(format!("{third}/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(jwks["keys"][0]["kid"], legacy.kid());

    // Another encryption key: the service refuses to start, naming the variable.
    let other = caravan_shared::config::generate_secret();
    let error = restart(&auth, &[("SIGNING_KEY_ENCRYPTION_KEY", &other)])
        .await
        .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("SIGNING_KEY_ENCRYPTION_KEY"), "{message}");
    assert!(message.contains("does not decrypt"), "{message}");
    assert!(!message.contains('\n'), "{message}");
    // A malformed or published one is refused too.
    for bad in ["not-a-key", "replace-with-a-long-random-value"] {
        let error = restart(&auth, &[("SIGNING_KEY_ENCRYPTION_KEY", bad)])
            .await
            .unwrap_err();
        assert!(
            format!("{error:#}").contains("invalid setting SIGNING_KEY_ENCRYPTION_KEY"),
            "{error:#}"
        );
    }
}
