//! Queries of the order database. Tenant-owned queries take a tenant scope:
//! row-level security shows one shop's rows, and the SQL names the shop too.

mod carts;
mod deadlines;
pub mod entities;
mod fulfilments;
mod groups;
mod orders;
mod payments;
mod preorders;
mod reports;
mod settings;
mod shipping;
mod timeline;

pub use carts::*;
pub use deadlines::*;
pub use fulfilments::*;
pub use groups::*;
pub use orders::*;
pub use payments::*;
pub use preorders::*;
pub use reports::*;
pub use settings::*;
pub use shipping::*;
pub use timeline::*;

use crate::domain::{
    AuthorisationStatus, CampaignStatus, DepositPolicy, GroupStatus, OrderStatus, PaymentKind,
    PaymentStatus,
};
use caravan_shared::domain::Currency;
use caravan_shared::tenancy::TenantScoped;
use uuid::Uuid;

/// The scope's shop, as the value of a query's `tenant_id` filter (row-level
/// security shows only its rows too).
fn tenant_of(scope: &impl TenantScoped) -> Uuid {
    scope.tenant().into_uuid()
}

/// `query`, locked until the transaction ends when `lock` is set. `FOR NO KEY
/// UPDATE`: it queues the lockers of a deal, group or campaign without conflicting
/// with the key-share lock that writing a row referencing it takes (an order's
/// foreign key to its group or campaign, a group's to its deal), so two payers
/// holding their own orders never deadlock on their group.
fn locked_if<E: sea_orm::EntityTrait>(query: sea_orm::Select<E>, lock: bool) -> sea_orm::Select<E> {
    use sea_orm::QuerySelect;
    if lock {
        query.lock(sea_orm::sea_query::LockType::NoKeyUpdate)
    } else {
        query
    }
}

/// `query` as a page, oldest first by (`created`, `id`): the rows after `after` (the
/// last row of the previous page), at most `limit`.
fn oldest_first<E: sea_orm::EntityTrait>(
    query: sea_orm::Select<E>,
    (created, id): (E::Column, E::Column),
    after: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
    limit: u64,
) -> sea_orm::Select<E> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{QueryFilter, QueryOrder, QuerySelect, QueryTrait};
    query
        .apply_if(after, |query, (at, last)| {
            query.filter(
                Expr::tuple([Expr::col(created), Expr::col(id)])
                    .gt(Expr::tuple([Expr::value(at), Expr::value(last)])),
            )
        })
        .order_by_asc(created)
        .order_by_asc(id)
        .limit(limit)
}

/// `query` as a page, newest first by (`created`, `id`): the rows before `before`
/// (the last row of the previous page), at most `limit`.
fn newest_first<E: sea_orm::EntityTrait>(
    query: sea_orm::Select<E>,
    (created, id): (E::Column, E::Column),
    before: Option<(chrono::DateTime<chrono::Utc>, Uuid)>,
    limit: u64,
) -> sea_orm::Select<E> {
    use sea_orm::sea_query::{Expr, ExprTrait};
    use sea_orm::{QueryFilter, QueryOrder, QuerySelect, QueryTrait};
    query
        .apply_if(before, |query, (at, last)| {
            query.filter(
                Expr::tuple([Expr::col(created), Expr::col(id)])
                    .lt(Expr::tuple([Expr::value(at), Expr::value(last)])),
            )
        })
        .order_by_desc(created)
        .order_by_desc(id)
        .limit(limit)
}

// ---- typed columns ----
//
// Statuses, payment kinds and currencies are read into their Rust types: a row
// holding a value Caravan does not know fails to read (the request answers 500 and
// the cause is logged), rather than passing for some other status or currency. They
// are written as their text, and the entities (`entities.rs`) hold them typed.
// `domain/` knows nothing of sea-orm: its traits are implemented here.

caravan_shared::stored_as_text!(
    OrderStatus,
    "order status",
    OrderStatus::parse,
    OrderStatus::as_str
);
caravan_shared::stored_as_text!(
    CampaignStatus,
    "campaign status",
    CampaignStatus::parse,
    CampaignStatus::as_str
);
caravan_shared::stored_as_text!(
    DepositPolicy,
    "deposit policy",
    DepositPolicy::parse,
    DepositPolicy::as_str
);
caravan_shared::stored_as_text!(
    GroupStatus,
    "group status",
    GroupStatus::parse,
    GroupStatus::as_str
);
caravan_shared::stored_as_text!(
    AuthorisationStatus,
    "authorisation status",
    AuthorisationStatus::parse,
    AuthorisationStatus::as_str
);
caravan_shared::stored_as_text!(
    PaymentKind,
    "payment kind",
    PaymentKind::parse,
    PaymentKind::as_str
);
caravan_shared::stored_as_text!(
    PaymentStatus,
    "payment status",
    PaymentStatus::parse,
    PaymentStatus::as_str
);
caravan_shared::stored_as_text!(
    StoredCurrency,
    "currency",
    |raw: &str| Currency::parse(raw).ok().map(StoredCurrency),
    |currency: StoredCurrency| currency.0.as_str()
);

/// A stored currency code, read as the [`Currency`] it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoredCurrency(pub Currency);

impl From<Currency> for StoredCurrency {
    fn from(currency: Currency) -> Self {
        Self(currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::Value;
    use sea_orm::sea_query::ValueType;

    #[test]
    fn typed_columns_are_written_as_their_text_and_unknown_text_is_refused() {
        let paid = Value::from(OrderStatus::Paid);
        assert_eq!(paid, Value::String(Some("paid".into())));
        assert_eq!(
            <OrderStatus as ValueType>::try_from(paid).ok(),
            Some(OrderStatus::Paid)
        );
        let on_hold = Value::String(Some("on_hold".into()));
        assert!(<OrderStatus as ValueType>::try_from(on_hold).is_err());
        let voided = Value::from(AuthorisationStatus::Voided);
        assert_eq!(
            <AuthorisationStatus as ValueType>::try_from(voided).ok(),
            Some(AuthorisationStatus::Voided)
        );
        let refund = Value::from(PaymentKind::Refund);
        assert_eq!(refund, Value::String(Some("refund".into())));
        assert_eq!(
            <PaymentKind as ValueType>::try_from(refund).ok(),
            Some(PaymentKind::Refund)
        );
        let chargeback = Value::String(Some("chargeback".into()));
        assert!(<PaymentKind as ValueType>::try_from(chargeback).is_err());
        let pending = Value::from(PaymentStatus::Pending);
        assert_eq!(
            <PaymentStatus as ValueType>::try_from(pending).ok(),
            Some(PaymentStatus::Pending)
        );
        let disputed = Value::String(Some("disputed".into()));
        assert!(<PaymentStatus as ValueType>::try_from(disputed).is_err());
        let zzz = Value::String(Some("ZZZ".into()));
        assert!(<StoredCurrency as ValueType>::try_from(zzz).is_err());
        assert!(<StoredCurrency as ValueType>::try_from(Value::String(None)).is_err());
    }
}
