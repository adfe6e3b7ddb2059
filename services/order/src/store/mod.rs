//! Queries of the order database. Tenant-owned queries take a tenant scope:
//! row-level security shows one shop's rows, and the SQL names the shop too.

mod carts;
mod deadlines;
mod fulfilments;
mod orders;
mod payments;
mod reports;
mod settings;
mod shipping;
mod shops;
mod timeline;

pub use carts::*;
pub use deadlines::*;
pub use fulfilments::*;
pub use orders::*;
pub use payments::*;
pub use reports::*;
pub use settings::*;
pub use shipping::*;
pub use shops::*;
pub use timeline::*;

use crate::domain::{AuthorisationStatus, OrderStatus};
use caravan_shared::domain::Currency;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::{ColIdx, QueryResult, TryGetError, TryGetable, Value};

fn tenant_of(scope: &impl TenantScoped) -> Value {
    scope.tenant().into_uuid().into()
}

// ---- typed columns ----
//
// Statuses and currencies are read into their Rust types: a row holding a value
// Caravan does not know fails to read (the request answers 500 and the cause is
// logged), rather than passing for some other status or currency.

use caravan_shared::db::decode_text as decode;

impl TryGetable for OrderStatus {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        decode(res, index, "order status", OrderStatus::parse)
    }
}

impl TryGetable for AuthorisationStatus {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        decode(
            res,
            index,
            "authorisation status",
            AuthorisationStatus::parse,
        )
    }
}

/// A stored currency code, read as the [`Currency`] it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoredCurrency(pub Currency);

impl TryGetable for StoredCurrency {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        decode(res, index, "currency", |raw| Currency::parse(raw).ok()).map(Self)
    }
}
