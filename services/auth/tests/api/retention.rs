//! Retention of expired refresh tokens and invitations, with time moved in the
//! database.

use crate::helpers::{PASSWORD, spawn_app, unique_email, unique_slug};
use caravan_auth::retention::RULES;
use caravan_shared::retention::Retention;
use sea_orm::ConnectionTrait;
use std::collections::HashMap;

#[tokio::test]
async fn expired_tokens_and_invitations_go_and_live_ones_stay() {
    let auth = spawn_app().await;
    let (_, owner, tokens) = auth.shop_with_owner(&unique_slug("ret")).await;
    let access = tokens["access_token"].as_str().unwrap();
    let (lapsed, _) = auth.invite(access, &unique_email("lapsed"), "staff").await;
    let (open, _) = auth.invite(access, &unique_email("open"), "staff").await;
    let stale = tokens.clone();
    let live = auth.tokens(&owner, PASSWORD, None).await;

    // The first session expired two days ago, the first invitation eight days ago;
    // the second invitation only an hour ago (still shown as expired to the shop).
    let owner_db = caravan_shared::db::connect(&auth.database.owner_url, 1)
        .await
        .unwrap();
    owner_db
        .execute_unprepared(&format!(
            "UPDATE refresh_tokens SET expires_at = now() - interval '2 days' \
             WHERE token_hash = encode(sha256(convert_to('{}', 'UTF8')), 'hex');
             UPDATE invitations SET expires_at = now() - interval '8 days' WHERE id = '{lapsed}';
             UPDATE invitations SET expires_at = now() - interval '1 hour' WHERE id = '{open}';",
            stale["refresh_token"].as_str().unwrap()
        ))
        .await
        .unwrap();
    let expired: i64 = owner_db
        .query_one_raw(caravan_shared::db::statement(
            "SELECT count(*) AS n FROM refresh_tokens WHERE expires_at < now() - interval '1 day'",
            vec![],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "n")
        .unwrap();
    assert_eq!(expired, 1, "the stale session's token is the one backdated");

    let runtime = caravan_shared::db::connect(&auth.database.runtime_url, 2)
        .await
        .unwrap();
    let registry = prometheus::Registry::new();
    let done = Retention::from_source(
        &HashMap::<String, String>::new(),
        runtime,
        &RULES,
        &registry,
    )
    .unwrap()
    .run()
    .await;
    let removed: HashMap<&str, u64> = done.into_iter().collect();
    assert_eq!(removed["expired_refresh_tokens"], 1, "{removed:?}");
    assert_eq!(removed["expired_invitations"], 1, "{removed:?}");

    // The stale session cannot refresh; the live one can.
    assert_eq!(auth.refresh(&stale["refresh_token"]).await.status(), 401);
    assert_eq!(auth.refresh(&live["refresh_token"]).await.status(), 200);
    let ids: Vec<String> = owner_db
        .query_all_raw(caravan_shared::db::statement(
            "SELECT id::text AS id FROM invitations WHERE accepted_at IS NULL",
            vec![],
        ))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get("", "id").unwrap())
        .collect();
    assert_eq!(ids, [open], "only the recently expired invitation is left");
}
