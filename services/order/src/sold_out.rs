//! Variants known to be sold out, held in Redis for a moment so that the losers of
//! a flash sale are answered without asking the catalog or queueing on its row.
//!
//! A checkout that finds a variant at zero available stock in the catalog's answer
//! marks it for [`REMEMBERED`]; until then every
//! checkout of a cart holding it is refused at once with the same 409. PostgreSQL
//! stays the truth: a mark is only ever a variant that was at zero a moment ago and
//! it lapses after [`REMEMBERED`], so stock that comes back (an expired or cancelled
//! order's, a restock) is sold again within that second; when Redis cannot be asked
//! the checkout asks the catalog as if nothing were marked. Every order instance
//! shares the marks.

use caravan_shared::TenantId;
use caravan_shared::redis_conn::{Redis, within};
use std::time::Duration;
use uuid::Uuid;

/// How long a variant stays marked as sold out.
pub const REMEMBERED: Duration = Duration::from_secs(1);

/// The marks, in this deployment's Redis.
#[derive(Clone)]
pub struct SoldOut {
    redis: Redis,
}

impl SoldOut {
    /// Marks kept in `redis`.
    pub fn new(redis: Redis) -> Self {
        Self { redis }
    }

    fn key(&self, tenant: TenantId, variant: Uuid) -> String {
        self.redis.key(&format!("sold-out:{tenant}:{variant}"))
    }

    /// Which of `variants` are marked; none when Redis does not answer in time.
    pub async fn marked(&self, tenant: TenantId, variants: &[Uuid]) -> Vec<Uuid> {
        if variants.is_empty() {
            return Vec::new();
        }
        let keys: Vec<String> = variants.iter().map(|v| self.key(tenant, *v)).collect();
        let mut conn = self.redis.conn();
        let command = redis::cmd("MGET").arg(&keys).clone();
        let asked = command.query_async::<Vec<Option<String>>>(&mut conn);
        let found = within("read sold-out marks", asked)
            .await
            .unwrap_or_default();
        variants
            .iter()
            .zip(found)
            .filter_map(|(variant, mark)| mark.map(|_| *variant))
            .collect()
    }

    /// Marks `variants` as sold out for [`REMEMBERED`]. Best effort.
    pub async fn mark(&self, tenant: TenantId, variants: &[Uuid]) {
        if variants.is_empty() {
            return;
        }
        let millis = u64::try_from(REMEMBERED.as_millis()).unwrap_or(1000);
        let mut pipeline = redis::pipe();
        for variant in variants {
            pipeline
                .cmd("SET")
                .arg(self.key(tenant, *variant))
                .arg(1)
                .arg("PX")
                .arg(millis)
                .ignore();
        }
        let mut conn = self.redis.conn();
        within(
            "mark variants sold out",
            pipeline.query_async::<()>(&mut conn),
        )
        .await;
    }
}
