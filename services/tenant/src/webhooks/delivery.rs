//! Fan-out: every service's events become deliveries to the endpoints of the shop
//! they concern that subscribed to their type, in the consumer's transaction (so
//! each event yields each delivery exactly once).

use crate::store;
use caravan_shared::TenantId;
use caravan_shared::events::Envelope;
use caravan_shared::events::consumer::EventHandler;
use caravan_shared::tenancy::TenantScope;
use sea_orm::DatabaseTransaction;

/// Turns events into deliveries.
pub struct Fanout;

#[async_trait::async_trait]
impl EventHandler for Fanout {
    async fn handle(&self, tx: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let Some(tenant) = event.tenant_id else {
            return Ok(());
        };
        let scope = TenantScope::enter(tx, TenantId::from(tenant)).await?;
        let payload = serde_json::to_value(event)?;
        for endpoint in store::webhooks::subscribed(&scope, &event.event_type).await? {
            store::webhooks::insert_delivery(
                &scope,
                endpoint.id,
                event.id,
                &event.event_type,
                &payload,
            )
            .await?;
        }
        Ok(())
    }
}
