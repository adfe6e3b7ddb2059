//! The sender: posts due deliveries, signed, and records every try.
//!
//! Each POST carries the event envelope as JSON and the headers
//! `Caravan-Delivery-Id`, `Caravan-Event-Type`, `Caravan-Timestamp` (Unix seconds)
//! and `Caravan-Signature: v1=<hex HMAC-SHA256 of "{timestamp}.{body}">`. A 2xx within
//! 5 s is success; anything else is retried after 30 s, 1 min, 5 min, 15 min, 30 min,
//! 1 h and 2 h, then the delivery has failed. An endpoint that has failed every try
//! for a day is disabled and the shop's owner emailed.
//!
//! A destination that leads only to internal addresses is not tried at all: the
//! delivery fails at once, without retries, and its try records why. The host is
//! resolved by the client's own resolver, once per connection (see `destination`).

use super::destination::{GuardedResolver, Refusal, delivery_client, refusal_of};
use super::{RETRY_MULTIPLES, check_url, signature};
use crate::domain::webhooks::DeliveryStatus;
use crate::store;
use crate::store::webhooks::{Delivery, Endpoint};
use caravan_shared::TenantId;
use caravan_shared::mail::{self, Email};
use caravan_shared::tenancy::{PlatformScope, TenantScope};
use caravan_shared::worker::{self, Wakeup};
use chrono::Utc;
use sea_orm::{DatabaseConnection, TransactionTrait};
use std::time::{Duration, Instant};

/// Sends webhook deliveries.
#[derive(Clone)]
pub struct Sender {
    db: DatabaseConnection,
    database_url: String,
    http: reqwest::Client,
    retry_base: Duration,
    allow_internal: bool,
}

impl Sender {
    /// A sender; `retry_base` scales the retry schedule, `allow_internal` admits
    /// internal addresses (development only).
    pub fn new(
        db: DatabaseConnection,
        database_url: &str,
        retry_base: Duration,
        allow_internal: bool,
    ) -> anyhow::Result<Self> {
        Ok(Self {
            db,
            database_url: database_url.to_owned(),
            http: delivery_client(
                GuardedResolver::system(allow_internal),
                Duration::from_secs(5),
            )?,
            retry_base,
            allow_internal,
        })
    }

    /// Runs `workers` senders in the background.
    pub fn spawn(self, workers: usize) {
        for _ in 0..workers {
            let wakeup = Wakeup {
                name: "webhook sender",
                database_url: self.database_url.clone(),
                channel: "caravan_webhooks",
                idle: Duration::from_millis(500),
            };
            let sender = self.clone();
            worker::spawn(wakeup, move || {
                let sender = sender.clone();
                async move { sender.send_next().await }
            });
        }
    }

    /// Sends the next due delivery, if any; answers whether there was one.
    pub async fn send_next(&self) -> anyhow::Result<bool> {
        let tx = self.db.begin().await?;
        let platform =
            PlatformScope::enter(&tx, "the webhook sender picks the next due job of any shop")
                .await?;
        // The job row stays locked while its delivery is sent (see
        // `next_due_job`). From the shop's scope on, the transaction sees that shop's
        // rows only (the job's among them).
        let Some(job) = store::webhooks::next_due_job(&platform).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        let delivery_id = job.delivery_id;
        let scope = TenantScope::enter(&tx, TenantId::from(job.tenant_id)).await?;
        let delivery = store::webhooks::delivery(&scope, delivery_id).await?;
        let endpoint = match &delivery {
            Some(delivery) => store::webhooks::endpoint(&scope, delivery.endpoint_id).await?,
            None => None,
        };
        let (Some(delivery), Some(endpoint)) = (delivery, endpoint) else {
            store::webhooks::dequeue(&scope, delivery_id).await?;
            tx.commit().await?;
            return Ok(true);
        };
        if !endpoint.enabled {
            store::webhooks::settle(
                &scope,
                delivery.id,
                DeliveryStatus::Failed,
                delivery.attempts,
                None,
            )
            .await?;
            store::webhooks::dequeue(&scope, delivery_id).await?;
            tx.commit().await?;
            return Ok(true);
        }

        let attempt = delivery.attempts + 1;
        let started = Instant::now();
        let outcome = self.post(&endpoint.url, &endpoint.secret, &delivery).await;
        let latency_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let (status_code, error) = match &outcome {
            Ok(status) if (200..300).contains(status) => (Some(i32::from(*status)), None),
            Ok(status) => (Some(i32::from(*status)), Some(format!("answered {status}"))),
            Err(Failure::Unreachable(error) | Failure::Refused(error)) => {
                (None, Some(error.clone()))
            }
        };
        let refused = matches!(outcome, Err(Failure::Refused(_)));
        store::webhooks::record_attempt(
            &scope,
            delivery.id,
            attempt,
            status_code,
            latency_ms,
            error.as_deref(),
        )
        .await?;

        if error.is_none() {
            store::webhooks::settle(
                &scope,
                delivery.id,
                DeliveryStatus::Delivered,
                attempt,
                None,
            )
            .await?;
            store::webhooks::endpoint_succeeded(&scope, endpoint.id).await?;
            store::webhooks::dequeue(&scope, delivery_id).await?;
        } else {
            // A refused destination is not retried: trying again would not make it
            // public, only give a rebinding name more chances.
            let retry = usize::try_from(attempt - 1)
                .ok()
                .and_then(|index| RETRY_MULTIPLES.get(index))
                .filter(|_| !refused);
            match retry {
                Some(multiple) => {
                    let due = Utc::now() + self.retry_base * *multiple;
                    store::webhooks::settle(
                        &scope,
                        delivery.id,
                        DeliveryStatus::Pending,
                        attempt,
                        Some(due),
                    )
                    .await?;
                    store::webhooks::queue(&scope, delivery_id, due).await?;
                }
                None => {
                    store::webhooks::settle(
                        &scope,
                        delivery.id,
                        DeliveryStatus::Failed,
                        attempt,
                        None,
                    )
                    .await?;
                    store::webhooks::dequeue(&scope, delivery_id).await?;
                }
            }
            let failing_since = store::webhooks::endpoint_failed(&scope, endpoint.id).await?;
            if failing_since.is_some_and(|since| Utc::now() - since > chrono::Duration::days(1)) {
                self.disable(&scope, &endpoint).await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn post(&self, url: &str, secret: &str, delivery: &Delivery) -> Result<u16, Failure> {
        // Checked again at every try: the setting may have changed since registration.
        // A host name is checked as the client connects, by its resolver.
        let url = check_url(url, self.allow_internal)
            .map_err(|error| Failure::Refused(format!("refused: the url {}", error.message)))?;
        let body = serde_json::to_vec(&delivery.payload)
            .map_err(|error| Failure::Unreachable(error.to_string()))?;
        let timestamp = Utc::now().timestamp();
        let response = self
            .http
            .post(url)
            .header("Content-Type", "application/json")
            .header("Caravan-Delivery-Id", delivery.id.to_string())
            .header("Caravan-Event-Type", &delivery.event_type)
            .header("Caravan-Timestamp", timestamp.to_string())
            .header("Caravan-Signature", signature(secret, timestamp, &body))
            .body(body)
            .send()
            .await
            .map_err(|error| {
                if let Some(refusal @ Refusal::Internal { .. }) = refusal_of(&error) {
                    Failure::Refused(format!("refused, not sent: {refusal}"))
                } else if error.is_timeout() {
                    Failure::Unreachable("timed out after 5 s".to_owned())
                } else {
                    Failure::Unreachable(format!("not reachable: {}", chain(&error)))
                }
            })?;
        Ok(response.status().as_u16())
    }

    async fn disable(&self, scope: &TenantScope<'_>, endpoint: &Endpoint) -> anyhow::Result<()> {
        use caravan_shared::tenancy::TenantScoped;
        let reason = "every delivery failed for a day";
        store::webhooks::disable(scope, endpoint.id, reason).await?;
        if let Some(shop) = store::tenant(scope.conn(), endpoint.tenant_id).await? {
            mail::enqueue(
                scope.conn(),
                &Email {
                    to: shop.owner_email.clone(),
                    subject: format!("A webhook of {} was disabled", shop.name),
                    body: format!(
                        "Deliveries to {} have failed for a day, so Caravan stopped sending to it.\n\
                         Fix the receiver, then re-enable the webhook (PATCH /v1/webhooks/{} with \
                         {{\"enabled\": true}}) and retry the failed deliveries.\n",
                        endpoint.url, endpoint.id
                    ),
                },
            )
            .await?;
            store::audit(
                scope.conn(),
                Some(shop.id),
                "system",
                "webhook.disable",
                Some(reason),
                serde_json::json!({"endpoint_id": endpoint.id}),
            )
            .await?;
        }
        tracing::warn!(endpoint_id = %endpoint.id, "webhook endpoint disabled");
        Ok(())
    }
}

/// Why a try did not get an answer.
enum Failure {
    /// Not reached this time (DNS, connection, TLS, timeout): tried again later.
    Unreachable(String),
    /// The destination is internal: never tried.
    Refused(String),
}

/// An error with its causes, `outer: inner: innermost`.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(current) = cause {
        text.push_str(": ");
        text.push_str(&current.to_string());
        cause = current.source();
    }
    text
}
