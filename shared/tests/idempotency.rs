#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! Idempotency keys in PostgreSQL: a retry gets the first answer, another body with
//! the same key is refused, a concurrent retry waits for the first attempt, and a
//! rolled-back attempt leaves the key free.

mod common;

use caravan_shared::db;
use caravan_shared::idempotency::{self, Claim, IdempotencyKey};
use caravan_shared::testing::TestDatabase;
use common::NotesMigrations;
use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::json;
use std::time::Duration;

async fn pool() -> (TestDatabase, DatabaseConnection) {
    let database = TestDatabase::create::<NotesMigrations>("shared")
        .await
        .unwrap();
    let pool = db::connect(&database.runtime_url, 4).await.unwrap();
    (database, pool)
}

#[tokio::test]
async fn a_retry_gets_the_first_answer_and_another_body_is_refused() {
    let (_database, pool) = pool().await;
    let key = IdempotencyKey::parse("checkout-1").unwrap();
    let body = json!({"cart_id": "c1"});
    let fingerprint = idempotency::fingerprint(&body);

    let tx = pool.begin().await.unwrap();
    assert_eq!(
        idempotency::claim(&tx, "shop:a:checkout", &key, &fingerprint)
            .await
            .unwrap(),
        Claim::Fresh
    );
    idempotency::save(
        &tx,
        "shop:a:checkout",
        &key,
        201,
        &json!({"number": "#1001"}),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let replay = idempotency::claim(&pool, "shop:a:checkout", &key, &fingerprint)
        .await
        .unwrap();
    assert_eq!(
        replay,
        Claim::Replay {
            status: 201,
            body: json!({"number": "#1001"})
        }
    );

    let other = idempotency::fingerprint(&json!({"cart_id": "c2"}));
    let refused = idempotency::claim(&pool, "shop:a:checkout", &key, &other)
        .await
        .unwrap_err();
    assert_eq!(refused.problem().status, 422);
    assert_eq!(refused.errors()[0].field, "Idempotency-Key");

    // The same key in another scope (another shop) is another key.
    assert_eq!(
        idempotency::claim(&pool, "shop:b:checkout", &key, &other)
            .await
            .unwrap(),
        Claim::Fresh
    );
}

#[tokio::test]
async fn a_concurrent_retry_waits_for_the_first_attempt() {
    let (_database, pool) = pool().await;
    let key = IdempotencyKey::parse("pay-7").unwrap();
    let fingerprint = idempotency::fingerprint(&json!({"amount": 1250}));

    let first = pool.begin().await.unwrap();
    assert_eq!(
        idempotency::claim(&first, "s", &key, &fingerprint)
            .await
            .unwrap(),
        Claim::Fresh
    );

    let retry = {
        let pool = pool.clone();
        let key = key.clone();
        let fingerprint = fingerprint.clone();
        tokio::spawn(async move {
            let tx = pool.begin().await.unwrap();
            let claim = idempotency::claim(&tx, "s", &key, &fingerprint)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            claim
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !retry.is_finished(),
        "the retry must wait for the first attempt"
    );
    idempotency::save(&first, "s", &key, 200, &json!({"status": "paid"}))
        .await
        .unwrap();
    first.commit().await.unwrap();

    assert_eq!(
        retry.await.unwrap(),
        Claim::Replay {
            status: 200,
            body: json!({"status": "paid"})
        }
    );
}

#[tokio::test]
async fn a_rolled_back_attempt_leaves_the_key_free() {
    let (_database, pool) = pool().await;
    let key = IdempotencyKey::parse("refund-3").unwrap();
    let fingerprint = idempotency::fingerprint(&json!({"amount": 300}));
    let tx = pool.begin().await.unwrap();
    assert_eq!(
        idempotency::claim(&tx, "s", &key, &fingerprint)
            .await
            .unwrap(),
        Claim::Fresh
    );
    tx.rollback().await.unwrap();
    assert_eq!(
        idempotency::claim(&pool, "s", &key, &fingerprint)
            .await
            .unwrap(),
        Claim::Fresh
    );
}
