//! Outgoing mail: queued in the caller's transaction, sent over SMTP (lettre) by a
//! background sender that retries with backoff.

use crate::db::SqlMigration;
use crate::worker::{self, Wakeup};
use anyhow::Context;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use prometheus::{IntCounterVec, Opts, Registry};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement, TransactionTrait};
use std::time::Duration;
use uuid::Uuid;

/// The mail queue table; services that send mail list it.
pub const MAIL_MIGRATION: SqlMigration = SqlMigration {
    name: "m0000_caravan_mail",
    sql: include_str!("../migrations/0002_mail.sql"),
};

/// A message to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    /// Recipient address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body: String,
}

/// Queues `email` on `conn`, the transaction of the change that causes it.
pub async fn enqueue<C: ConnectionTrait>(conn: &C, email: &Email) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO mail_outbox (id, recipient, subject, body) VALUES ($1, $2, $3, $4)",
        [
            id.into(),
            email.to.clone().into(),
            email.subject.clone().into(),
            email.body.clone().into(),
        ],
    ))
    .await?;
    Ok(id)
}

/// Attempts before a message is given up (kept, marked failed, counted).
const MAX_ATTEMPTS: i32 = 10;

/// Sends queued mail.
#[derive(Clone)]
pub struct MailSender {
    db: DatabaseConnection,
    database_url: String,
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    sent: IntCounterVec,
}

impl MailSender {
    /// A sender for the queue in `db`, through `smtp_url` (`smtp://host:port`, or
    /// `smtps://user:pass@host` for TLS), from `from`.
    pub fn new(
        db: DatabaseConnection,
        database_url: &str,
        smtp_url: &str,
        from: &str,
        registry: &Registry,
    ) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .context("SMTP_URL")?
            .timeout(Some(Duration::from_secs(10)))
            .build();
        let from: Mailbox = from.parse().context("MAIL_FROM")?;
        let sent = IntCounterVec::new(
            Opts::new("mail_total", "Mail by outcome: sent, retried, failed"),
            &["outcome"],
        )?;
        registry.register(Box::new(sent.clone()))?;
        Ok(Self {
            db,
            database_url: database_url.to_owned(),
            transport,
            from,
            sent,
        })
    }

    /// Sends in the background: woken when mail is queued, and every few seconds for
    /// retries.
    pub fn spawn(self) -> tokio::task::JoinHandle<()> {
        let wakeup = Wakeup {
            name: "mail sender",
            database_url: self.database_url.clone(),
            channel: "caravan_mail",
            idle: Duration::from_secs(2),
        };
        worker::spawn(wakeup, move || {
            let sender = self.clone();
            async move { Ok(sender.send_due().await? > 0) }
        })
    }

    /// Sends the messages that are due; answers how many were tried.
    pub async fn send_due(&self) -> anyhow::Result<usize> {
        let tx = self.db.begin().await?;
        // SKIP LOCKED: replicas share the queue without sending a message twice. A
        // sent message's body is cleared: it may carry a live token.
        let rows = tx
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT id, recipient, subject, body, attempts FROM mail_outbox \
                 WHERE sent_at IS NULL AND failed_at IS NULL AND next_attempt_at <= now() \
                 ORDER BY next_attempt_at LIMIT 20 FOR UPDATE SKIP LOCKED",
            ))
            .await?;
        let count = rows.len();
        let mut due = Vec::with_capacity(count);
        for row in rows {
            let id: Uuid = row.try_get("", "id")?;
            let attempts: i32 = row.try_get::<i32>("", "attempts")? + 1;
            let email = Email {
                to: row.try_get("", "recipient")?,
                subject: row.try_get("", "subject")?,
                body: row.try_get("", "body")?,
            };
            due.push((id, attempts, email));
        }
        // At once, over the transport's pooled connections (up to ten): a message is
        // a handful of SMTP round trips, and waiting on each message in turn kept
        // the sender to a few dozen a second.
        let sent =
            futures_util::future::join_all(due.iter().map(|(_, _, email)| self.send(email))).await;
        for ((id, attempts, _), result) in due.into_iter().zip(sent) {
            let (sql, outcome, error) = match result {
                Ok(()) => (
                    "UPDATE mail_outbox SET sent_at = now(), body = '', attempts = $2, last_error = NULLIF($3, '') \
                     WHERE id = $1",
                    "sent",
                    None,
                ),
                Err(error) if attempts >= MAX_ATTEMPTS => (
                    "UPDATE mail_outbox SET failed_at = now(), attempts = $2, last_error = $3 WHERE id = $1",
                    "failed",
                    Some(format!("{error:#}")),
                ),
                Err(error) => (
                    "UPDATE mail_outbox SET attempts = $2, last_error = $3, \
                     next_attempt_at = now() + least(interval '1 hour', interval '2 seconds' * power(2, $2)) \
                     WHERE id = $1",
                    "retried",
                    Some(format!("{error:#}")),
                ),
            };
            if let Some(error) = &error {
                tracing::warn!(mail_id = %id, attempts, %error, outcome, "mail not sent");
            }
            tx.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                sql,
                [id.into(), attempts.into(), error.unwrap_or_default().into()],
            ))
            .await?;
            self.sent.with_label_values(&[outcome]).inc();
        }
        tx.commit().await?;
        Ok(count)
    }

    async fn send(&self, email: &Email) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(email.to.parse().context("recipient")?)
            .subject(&email.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(email.body.clone())?;
        self.transport.send(message).await?;
        Ok(())
    }
}
