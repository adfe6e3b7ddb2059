//! Groups whose time ran out. A group still forming past `expires_at` fails: every
//! order of it is cancelled, each paid one refunded in full through the provider
//! that took the money (asked with no transaction open, as a staff cancellation
//! is), its stock released; then the group is marked failed (`group.failed`).
//! Nothing waits on a person. A group whose order is being paid at that moment, or
//! whose refund the provider refused, is tried again on the next round.

use crate::payments::Providers;
use crate::store::{self, HOLDING};
use crate::workflow::Locked;
use crate::workflow::group::{self, GROUP_ACTOR};
use crate::workflow::refund::{self, Cancelling, Finished, Refunding};
use caravan_shared::TenantId;
use caravan_shared::tenancy::{PlatformScope, TenantTx};
use chrono::Utc;
use sea_orm::{DatabaseConnection, TransactionTrait};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Most groups one round looks at.
const BATCH: i64 = 50;

/// Why the orders of a group that did not form are cancelled (their timeline).
const REASON: &str = "the group did not form in time";

/// Fails groups whose time ran out, in the background.
pub struct GroupSweep {
    db: DatabaseConnection,
    providers: Providers,
    interval: Duration,
}

/// What one group came to in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Failed: every order cancelled and refunded.
    Failed,
    /// Not yet: an order is being paid, or a refund was refused; next round.
    Later,
    /// Nothing to do (formed meanwhile, or not due).
    Nothing,
}

impl GroupSweep {
    /// A sweep looking for groups past their time every `interval`.
    pub fn new(db: DatabaseConnection, providers: Providers, interval: Duration) -> Self {
        Self {
            db,
            providers,
            interval,
        }
    }

    /// Runs until the process ends.
    pub fn spawn(self) {
        let sweep = Arc::new(self);
        tokio::spawn(async move {
            loop {
                if let Err(error) = sweep.round().await {
                    tracing::warn!(error = %format!("{error:#}"), "group sweep interrupted");
                }
                tokio::time::sleep(sweep.interval).await;
            }
        });
    }

    /// One round: every group due, each on its own; answers how many failed.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let tx = self.db.begin().await?;
        let every_shop = PlatformScope::enter(
            &tx,
            "the group sweep picks groups of any shop whose time ran out",
        )
        .await?;
        let due = store::groups_due(&every_shop, BATCH).await?;
        tx.commit().await?;
        let mut failed = 0;
        for group in due {
            let tenant = TenantId::from(group.tenant_id);
            match self.fail(tenant, group.id).await {
                Ok(Outcome::Failed) => failed += 1,
                Ok(_) => {}
                Err(error) => tracing::warn!(
                    group = %group.id,
                    error = %format!("{error:#}"),
                    "a group that did not form could not be settled yet"
                ),
            }
        }
        Ok(failed)
    }

    /// Fails one group of `tenant` if it is still forming past its time.
    #[tracing::instrument(skip(self), fields(tenant = %tenant, group = %id))]
    pub async fn fail(&self, tenant: TenantId, id: Uuid) -> anyhow::Result<Outcome> {
        let tx = TenantTx::begin(&self.db, tenant).await?;
        let Some(row) = store::group(&tx, id, true).await? else {
            return Ok(Outcome::Nothing);
        };
        if row.status != crate::domain::GroupStatus::Forming || row.expires_at > Utc::now() {
            tx.rollback().await?;
            return Ok(Outcome::Nothing);
        }
        let live: Vec<Uuid> = store::group_orders(&tx, id)
            .await?
            .into_iter()
            .filter(|order| HOLDING.contains(&order.status))
            .map(|order| order.id)
            .collect();
        let free = store::lock_group_orders(&tx, id, &HOLDING, true).await?;
        if free.len() < live.len() {
            // A payment holds one of them: it finishes first, and this group comes
            // round again.
            tx.rollback().await?;
            return Ok(Outcome::Later);
        }
        let mut refunding: Vec<Refunding> = Vec::new();
        for order in free {
            let lines = store::order_lines(&tx, order.id).await?;
            let provider = order
                .payment_provider
                .as_deref()
                .and_then(|name| self.providers.get(name));
            let locked = Locked { row: order, lines };
            match refund::start_cancel(&tx, &locked, provider.as_deref(), REASON, GROUP_ACTOR)
                .await
                .map_err(|error| anyhow::anyhow!("cancelling order {}: {error}", locked.row.id))?
            {
                Cancelling::Done(_) => {}
                Cancelling::Refunding(started) => refunding.push(started),
            }
        }
        if refunding.is_empty() {
            group::failed(&tx, &row)
                .await
                .map_err(|error| anyhow::anyhow!("failing group {id}: {error}"))?;
            tx.commit().await?;
            return Ok(Outcome::Failed);
        }
        tx.commit().await?;
        let mut refused = 0;
        for started in &refunding {
            if !self.give_back(tenant, started).await? {
                refused += 1;
            }
        }
        if refused > 0 {
            return Ok(Outcome::Later);
        }
        let tx = TenantTx::begin(&self.db, tenant).await?;
        let Some(row) = store::group(&tx, id, true).await? else {
            return Ok(Outcome::Nothing);
        };
        let waiting = store::lock_group_orders(&tx, id, &HOLDING, false).await?;
        if !waiting.is_empty() {
            tx.rollback().await?;
            return Ok(Outcome::Later);
        }
        group::failed(&tx, &row)
            .await
            .map_err(|error| anyhow::anyhow!("failing group {id}: {error}"))?;
        tx.commit().await?;
        Ok(Outcome::Failed)
    }

    /// Returns the money of one cancelled order and records how it went; false
    /// when the provider refused (the order stays as it was, for the next round).
    async fn give_back(&self, tenant: TenantId, started: &Refunding) -> anyhow::Result<bool> {
        let provider = self
            .providers
            .get(started.provider())
            .ok_or_else(|| anyhow::anyhow!("the provider {} is not offered", started.provider()))?;
        let answered = refund::give_back(provider.as_ref(), started).await;
        let tx = TenantTx::begin(&self.db, tenant).await?;
        let finished = refund::finish_cancel(&tx, started, answered, REASON)
            .await
            .map_err(|error| anyhow::anyhow!("recording a group refund: {error}"))?;
        tx.commit().await?;
        Ok(match finished {
            Finished::Done(_) => true,
            Finished::Refused(error) => {
                tracing::warn!(error = %error, "a group refund was refused");
                false
            }
        })
    }
}
