#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design
//! The mail queue against the real SMTP sink: a burst is sent in full, every message
//! once, and the queue records each as sent with its body cleared.

use caravan_shared::db::{self, BASE_MIGRATION, ServiceMigrations, SqlMigration};
use caravan_shared::mail::{self, Email, MAIL_MIGRATION, MailSender};
use caravan_shared::testing::{TestDatabase, unique_email, wait_for_mail};
use prometheus::Registry;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::collections::BTreeSet;

struct MailMigrations;

impl ServiceMigrations for MailMigrations {
    const LIST: &'static [SqlMigration] = &[BASE_MIGRATION, MAIL_MIGRATION];
}

#[tokio::test]
async fn a_burst_of_mail_is_sent_in_full_each_message_once() {
    let database = TestDatabase::create::<MailMigrations>("mail")
        .await
        .unwrap();
    let pool = db::connect(&database.runtime_url, 4).await.unwrap();
    let recipient = unique_email("burst");
    let burst = 45;
    for n in 0..burst {
        let email = Email {
            to: recipient.clone(),
            subject: format!("Order #{}", 1001 + n),
            body: format!("Thank you for order #{}.", 1001 + n),
        };
        mail::enqueue(&pool, &email).await.unwrap();
    }
    let sender = MailSender::new(
        pool.clone(),
        &database.runtime_url,
        "smtp://127.0.0.1:1025",
        "Caravan <no-reply@caravan.localhost>",
        &Registry::new(),
    )
    .unwrap();
    let mut tried = 0;
    loop {
        let batch = sender.send_due().await.unwrap();
        if batch == 0 {
            break;
        }
        tried += batch;
    }
    assert_eq!(tried, burst as usize);

    let received = wait_for_mail(&recipient, burst as usize).await.unwrap();
    let subjects: BTreeSet<String> = received.iter().map(|m| m.subject.clone()).collect();
    assert_eq!(received.len(), burst as usize, "{subjects:?}");
    assert_eq!(subjects.len(), burst as usize, "a message arrived twice");
    let row = pool
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) FILTER (WHERE sent_at IS NOT NULL AND body = '' AND attempts = 1) AS sent, \
             count(*) AS every FROM mail_outbox",
        ))
        .await
        .unwrap()
        .unwrap();
    let sent: i64 = row.try_get("", "sent").unwrap();
    let every: i64 = row.try_get("", "every").unwrap();
    assert_eq!((sent, every), (burst, burst));
}
