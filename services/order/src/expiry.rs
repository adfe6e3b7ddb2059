//! Expiry of unpaid orders. Every checkout records a deadline before it asks the
//! catalog for stock; when the deadline passes, an order still waiting for payment
//! expires (`order.expired`, and the catalog releases its stock), and a reservation
//! whose order was never written (the checkout failed after reserving) is released
//! directly.

use crate::catalog::Catalog;
use crate::domain::OrderStatus;
use crate::store;
use crate::workflow;
use caravan_shared::TenantId;
use caravan_shared::tenancy::{PlatformScope, TenantScope};
use chrono::{TimeDelta, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction, TransactionTrait};
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// How long a deadline that could not be settled waits before it is tried again.
pub const RETRY_AFTER: TimeDelta = TimeDelta::seconds(30);

/// Settles passed deadlines in the background.
pub struct Expiry {
    db: DatabaseConnection,
    catalog: Arc<Catalog>,
    interval: Duration,
}

impl Expiry {
    /// A sweeper looking for passed deadlines every `interval`.
    pub fn new(db: DatabaseConnection, catalog: Arc<Catalog>, interval: Duration) -> Self {
        Self {
            db,
            catalog,
            interval,
        }
    }

    /// Runs until the process ends.
    pub fn spawn(self) {
        tokio::spawn(async move {
            loop {
                loop {
                    match self.settle_next().await {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(error) => {
                            tracing::warn!(error = %format!("{error:#}"), "order expiry interrupted");
                            break;
                        }
                    }
                }
                tokio::time::sleep(self.interval).await;
            }
        });
    }

    /// Settles one passed deadline; answers whether there was one. A deadline that
    /// cannot be settled (its order cannot be read, or the catalog cannot be
    /// reached) comes round again after [`RETRY_AFTER`], so it never holds up the
    /// others.
    pub async fn settle_next(&self) -> anyhow::Result<bool> {
        let tx = self.db.begin().await?;
        let every_shop = PlatformScope::enter(
            &tx,
            "order expiry picks the next passed deadline of any shop",
        )
        .await?;
        let Some(due) = store::next_due(&every_shop).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        let tenant = TenantId::from(due.tenant_id);
        match self.settle(&tx, tenant, due.order_id).await {
            Ok(()) => {
                tx.commit().await?;
                Ok(true)
            }
            Err(error) => {
                tx.rollback().await?;
                let again = Utc::now() + RETRY_AFTER;
                store::set_deadline(&self.db, tenant, due.order_id, again).await?;
                Err(error.context(format!(
                    "settling the deadline of order {} (tried again at {again})",
                    due.order_id
                )))
            }
        }
    }

    async fn settle(
        &self,
        tx: &DatabaseTransaction,
        tenant: TenantId,
        order_id: Uuid,
    ) -> anyhow::Result<()> {
        // From here on the transaction sees that shop's rows only (the deadline's too).
        let scope = TenantScope::enter(tx, tenant).await?;
        match workflow::lock(&scope, order_id).await? {
            Some(order) if order.row.status == OrderStatus::PendingPayment => {
                workflow::expire(&scope, &order)
                    .await
                    .map_err(|error| anyhow::anyhow!("expiring {order_id}: {error}"))?;
                tracing::info!(order = %order_id, "unpaid order expired");
            }
            Some(_) => store::clear_deadline(tx, order_id).await?,
            None => {
                // Reserved, but the order was never written.
                self.catalog.release(tenant, order_id).await?;
                store::clear_deadline(tx, order_id).await?;
                tracing::info!(order = %order_id, "stock of an unfinished checkout released");
            }
        }
        Ok(())
    }
}
