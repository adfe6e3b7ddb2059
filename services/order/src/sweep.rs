//! What runs out: groups and harvest balances. Every round of the sweep:
//!
//! - A group still forming past `expires_at` fails (`group.failed`) and every
//!   order of it is cancelled in the same transaction, each paid one refunded in
//!   full through the provider that took the money (asked with no transaction open,
//!   as a staff cancellation is), its stock released; once all are, the group is
//!   settled.
//! - A harvest whose balances are past due cancels each pre-order with its balance
//!   unpaid, keeping or refunding the deposit as the shop's policy says; a harvest
//!   called off cancels every pre-order and refunds it in full.
//!
//! Nothing waits on a person. Orders being paid at that moment, and refunds the
//! provider refused, come round again on the next round.

use crate::domain::{CampaignStatus, DepositPolicy, GroupStatus, OrderStatus};
use crate::payments::Providers;
use crate::store::{self, HOLDING, OrderRow, WAITING};
use crate::workflow::Locked;
use crate::workflow::group::{self, GROUP_ACTOR};
use crate::workflow::preorder::HARVEST_ACTOR;
use crate::workflow::refund::{self, Cancelling, Finished, Refunding};
use caravan_shared::TenantId;
use caravan_shared::tenancy::{PlatformScope, TenantTx};
use chrono::Utc;
use sea_orm::{DatabaseConnection, TransactionTrait};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// Most groups, and campaigns, one round looks at.
const BATCH: i64 = 50;

/// Why the orders of a group that did not form are cancelled (their timeline).
const UNFORMED: &str = "the group did not form in time";

/// Why a pre-order whose balance went unpaid is cancelled.
const UNPAID_BALANCE: &str = "the balance was not paid by its deadline";

/// Settles what ran out, in the background.
pub struct Sweep {
    db: DatabaseConnection,
    providers: Providers,
    interval: Duration,
}

/// What one group or campaign came to in a round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Settled: every order it had to cancel is cancelled (and refunded).
    Settled,
    /// Not yet: an order is being paid, or a refund was refused; next round.
    Later,
    /// Nothing to do (formed meanwhile, or not due).
    Nothing,
}

impl Sweep {
    /// A sweep looking for what ran out every `interval`.
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
                    tracing::warn!(error = %format!("{error:#}"), "sweep interrupted");
                }
                tokio::time::sleep(sweep.interval).await;
            }
        });
    }

    /// One round: every group and campaign due, each on its own; answers how many
    /// were settled.
    pub async fn round(&self) -> anyhow::Result<usize> {
        let tx = self.db.begin().await?;
        let every_shop = PlatformScope::enter(
            &tx,
            "the sweep picks groups and harvests of any shop whose time ran out",
        )
        .await?;
        let groups = store::groups_due(&every_shop, BATCH).await?;
        let campaigns = store::campaigns_due(&every_shop, BATCH).await?;
        tx.commit().await?;
        let mut settled = 0;
        for group in groups {
            let outcome = self.fail(TenantId::from(group.tenant_id), group.id).await;
            settled += self.count(outcome, "group", group.id);
        }
        for campaign in campaigns {
            let outcome = self
                .settle_campaign(TenantId::from(campaign.tenant_id), campaign.id)
                .await;
            settled += self.count(outcome, "harvest", campaign.id);
        }
        Ok(settled)
    }

    fn count(&self, outcome: anyhow::Result<Outcome>, what: &str, id: Uuid) -> usize {
        match outcome {
            Ok(Outcome::Settled) => 1,
            Ok(_) => 0,
            Err(error) => {
                tracing::warn!(
                    what,
                    id = %id,
                    error = %format!("{error:#}"),
                    "could not be settled yet"
                );
                0
            }
        }
    }

    /// Fails one group of `tenant` still forming past its time: it is marked failed
    /// at once (`group.failed`), in the transaction that cancels its orders, so no
    /// order of it is seen cancelled while the group still looks open; then their
    /// money goes back. A failed group whose refunds are not all done yet is taken
    /// up again; once none of its orders waits, it is settled.
    #[tracing::instrument(skip(self), fields(tenant = %tenant, group = %id))]
    pub async fn fail(&self, tenant: TenantId, id: Uuid) -> anyhow::Result<Outcome> {
        let tx = TenantTx::begin(&self.db, tenant).await?;
        let Some(row) = store::group(&tx, id, true).await? else {
            return Ok(Outcome::Nothing);
        };
        let due = match row.status {
            GroupStatus::Forming => row.expires_at <= Utc::now(),
            GroupStatus::Failed => row.settled_at.is_none(),
            GroupStatus::Formed => false,
        };
        if !due {
            tx.rollback().await?;
            return Ok(Outcome::Nothing);
        }
        let live: Vec<OrderRow> = store::group_orders(&tx, id)
            .await?
            .into_iter()
            .filter(|order| HOLDING.contains(&order.status))
            .collect();
        if row.status == GroupStatus::Forming {
            let ids: Vec<Uuid> = live.iter().map(|order| order.id).collect();
            if store::lock_orders_free(&tx, &ids).await?.len() < ids.len() {
                // A payment holds one of them: it finishes first, and this group
                // comes round again.
                tx.rollback().await?;
                return Ok(Outcome::Later);
            }
            group::failed(&tx, &row)
                .await
                .map_err(|error| anyhow::anyhow!("failing group {id}: {error}"))?;
        }
        if live.is_empty() {
            tx.commit().await?;
        } else if !self
            .cancel_all(tenant, tx, &live, UNFORMED, GROUP_ACTOR, false)
            .await?
        {
            return Ok(Outcome::Later);
        }
        let tx = TenantTx::begin(&self.db, tenant).await?;
        store::group(&tx, id, true).await?;
        if !store::lock_group_orders(&tx, id, &HOLDING)
            .await?
            .is_empty()
        {
            tx.rollback().await?;
            return Ok(Outcome::Later);
        }
        store::settle_group(&tx, id).await?;
        tx.commit().await?;
        Ok(Outcome::Settled)
    }

    /// Settles one campaign of `tenant`: called off, every pre-order waiting is
    /// cancelled and refunded; harvested and past its balances' deadline, every
    /// pre-order with its balance unpaid is cancelled under the deposit policy.
    /// Marked settled once nothing is left to wait for.
    #[tracing::instrument(skip(self), fields(tenant = %tenant, campaign = %id))]
    pub async fn settle_campaign(&self, tenant: TenantId, id: Uuid) -> anyhow::Result<Outcome> {
        let tx = TenantTx::begin(&self.db, tenant).await?;
        let Some(campaign) = store::campaign(&tx, id, true).await? else {
            return Ok(Outcome::Nothing);
        };
        let called_off = campaign.status == CampaignStatus::CalledOff;
        let due = campaign.status == CampaignStatus::Harvested
            && campaign.balance_due_at.is_some_and(|due| due <= Utc::now());
        if campaign.settled_at.is_some() || !(called_off || due) {
            tx.rollback().await?;
            return Ok(Outcome::Nothing);
        }
        let waiting = store::campaign_orders(&tx, id, &WAITING).await?;
        // After the harvest, an unpaid pre-order waits for its own payment window.
        let (targets, unpaid): (Vec<OrderRow>, Vec<OrderRow>) = waiting
            .into_iter()
            .partition(|order| called_off || order.status == OrderStatus::Preordered);
        let keep = !called_off && campaign.deposit_policy == DepositPolicy::Forfeit;
        let reason = match (&campaign.call_off_reason, called_off) {
            (Some(reason), true) => reason.clone(),
            _ => UNPAID_BALANCE.to_owned(),
        };
        if !targets.is_empty() {
            if !self
                .cancel_all(tenant, tx, &targets, &reason, HARVEST_ACTOR, keep)
                .await?
            {
                return Ok(Outcome::Later);
            }
        } else {
            tx.rollback().await?;
        }
        if !unpaid.is_empty() {
            return Ok(Outcome::Later);
        }
        let tx = TenantTx::begin(&self.db, tenant).await?;
        store::campaign(&tx, id, true).await?;
        let left = store::campaign_orders(&tx, id, &WAITING).await?;
        if left
            .iter()
            .any(|order| called_off || order.status == OrderStatus::Preordered)
        {
            tx.rollback().await?;
            return Ok(Outcome::Later);
        }
        store::settle_campaign(&tx, id).await?;
        tx.commit().await?;
        Ok(Outcome::Settled)
    }

    /// Cancels every one of `orders` in `tx` (each locked first; none another
    /// transaction holds, else nothing is done and the answer is false), refunding
    /// what was paid unless `keep`, then commits and asks the providers for the
    /// money; answers whether every order is now cancelled.
    async fn cancel_all(
        &self,
        tenant: TenantId,
        tx: TenantTx,
        orders: &[OrderRow],
        reason: &str,
        actor: &str,
        keep: bool,
    ) -> anyhow::Result<bool> {
        let ids: Vec<Uuid> = orders.iter().map(|order| order.id).collect();
        let free = store::lock_orders_free(&tx, &ids).await?;
        if free.len() < ids.len() {
            // A payment holds one of them: it finishes first, and this comes round
            // again.
            tx.rollback().await?;
            return Ok(false);
        }
        let mut refunding: Vec<Refunding> = Vec::new();
        for order in free {
            let lines = store::order_lines(&tx, order.id).await?;
            let provider = order
                .payment_provider
                .as_deref()
                .and_then(|name| self.providers.get(name));
            let locked = Locked { row: order, lines };
            let id = locked.row.id;
            if keep {
                refund::cancel_keeping_payment(&tx, &locked, reason, actor)
                    .await
                    .map_err(|error| anyhow::anyhow!("cancelling order {id}: {error}"))?;
                continue;
            }
            match refund::start_cancel(&tx, &locked, provider.as_deref(), reason, actor)
                .await
                .map_err(|error| anyhow::anyhow!("cancelling order {id}: {error}"))?
            {
                Cancelling::Done(_) => {}
                Cancelling::Refunding(started) => refunding.push(started),
            }
        }
        tx.commit().await?;
        let mut all = true;
        for started in &refunding {
            all &= self.give_back(tenant, started, reason).await?;
        }
        Ok(all)
    }

    /// Returns the money of one cancelled order and records how it went; false
    /// when the provider refused (the order stays as it was, for the next round).
    async fn give_back(
        &self,
        tenant: TenantId,
        started: &Refunding,
        reason: &str,
    ) -> anyhow::Result<bool> {
        let provider = self
            .providers
            .get(started.provider())
            .ok_or_else(|| anyhow::anyhow!("the provider {} is not offered", started.provider()))?;
        let answered = refund::give_back(provider.as_ref(), started).await;
        let tx = TenantTx::begin(&self.db, tenant).await?;
        let finished = refund::finish_cancel(&tx, started, answered, reason)
            .await
            .map_err(|error| anyhow::anyhow!("recording a group refund: {error}"))?;
        tx.commit().await?;
        Ok(match finished {
            Finished::Done(_) => true,
            Finished::Refused(error) => {
                tracing::warn!(error = %error, "a refund was refused");
                false
            }
        })
    }
}
