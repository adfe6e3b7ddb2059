//! Payments, refunds and payment authorisations.

use super::entities::{payment_authorisations, payments};
use super::tenant_of;
use crate::domain::{AuthorisationStatus, PaymentKind, PaymentStatus};
use caravan_shared::db::statement;
use caravan_shared::domain::Money;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

/// A payment or refund.
pub type PaymentRow = payments::Model;

/// A card gateway's authorisation of an order's payment.
pub type AuthorisationRow = payment_authorisations::Model;

/// A payment or refund to record.
pub struct NewPayment<'a> {
    pub provider: &'a str,
    pub kind: PaymentKind,
    pub status: PaymentStatus,
    pub amount: i64,
    pub reference: Option<String>,
    pub detail: Option<String>,
    pub actor: &'a str,
}

/// Records a payment or refund.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order, kind = payment.kind.as_str(), status = payment.status.as_str()))]
pub async fn insert_payment(
    scope: &impl TenantScoped,
    order: Uuid,
    payment: &NewPayment<'_>,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    payments::Entity::insert(payments::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_of(scope)),
        order_id: Set(order),
        provider: Set(payment.provider.to_owned()),
        kind: Set(payment.kind),
        status: Set(payment.status),
        amount: Set(payment.amount),
        reference: Set(payment.reference.clone()),
        detail: Set(payment.detail.clone()),
        actor: Set(payment.actor.to_owned()),
        ..Default::default()
    })
    .exec_without_returning(scope.conn())
    .await?;
    Ok(id)
}

/// The sum of `order`'s pending refunds ($1 the shop, $2 the order).
const REFUNDS_IN_FLIGHT: &str = "SELECT coalesce(sum(amount), 0)::bigint AS in_flight FROM payments \
     WHERE tenant_id = $1 AND order_id = $2 AND kind = 'refund' AND status = 'pending'";

/// What is being refunded of `order` right now: refunds recorded as pending whose
/// provider has not answered yet. It counts as refunded when checking what is left,
/// so two refunds in flight never give back more than was paid.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn refunds_in_flight(scope: &impl TenantScoped, order: Uuid) -> Result<i64, DbErr> {
    let row = scope
        .conn()
        .query_one_raw(statement(
            REFUNDS_IN_FLIGHT,
            vec![tenant_of(scope).into(), order.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("refunds in flight".into()))?;
    row.try_get("", "in_flight")
}

/// Settles a pending refund as `status` (`succeeded` or `failed`), once: answers
/// whether it was still pending (only a pending refund changes, so of two
/// settlements racing, one wins). A missing `reference` keeps the one recorded.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), refund = %refund, status = status.as_str()))]
pub async fn settle_refund(
    scope: &impl TenantScoped,
    refund: Uuid,
    status: PaymentStatus,
    reference: Option<&str>,
    detail: Option<&str>,
) -> Result<bool, DbErr> {
    let mut update = payments::Entity::update_many()
        .col_expr(payments::Column::Status, Expr::value(status))
        .col_expr(
            payments::Column::Detail,
            Expr::value(detail.map(str::to_owned)),
        );
    if let Some(reference) = reference {
        update = update.col_expr(payments::Column::Reference, Expr::value(reference));
    }
    let result = update
        .filter(payments::Column::TenantId.eq(tenant_of(scope)))
        .filter(payments::Column::Id.eq(refund))
        .filter(payments::Column::Kind.eq(PaymentKind::Refund))
        .filter(payments::Column::Status.eq(PaymentStatus::Pending))
        .exec(scope.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Gives up a claimed idempotency key that has no answer yet ($1 its scope, $2 the
/// key): the table is `caravan-shared`'s, with no entity here.
const RELEASE_IDEMPOTENCY_KEY: &str =
    "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND response_status IS NULL";

/// Gives up a claimed idempotency key that has no answer yet, so that a retry with
/// it is a new request (as when the work's transaction rolls back).
#[tracing::instrument(skip_all)]
pub async fn release_idempotency_key<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    key: &str,
) -> Result<(), DbErr> {
    conn.execute_raw(statement(
        RELEASE_IDEMPOTENCY_KEY,
        vec![scope.into(), key.into()],
    ))
    .await?;
    Ok(())
}

/// An order's payments and refunds, oldest first.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn payments(scope: &impl TenantScoped, order: Uuid) -> Result<Vec<PaymentRow>, DbErr> {
    payments::Entity::find()
        .filter(payments::Column::TenantId.eq(tenant_of(scope)))
        .filter(payments::Column::OrderId.eq(order))
        .order_by_asc(payments::Column::CreatedAt)
        .order_by_asc(payments::Column::Id)
        .all(scope.conn())
        .await
}

/// Records an authorisation a gateway is about to be asked for, `requested` until
/// its answer is recorded. At most one of an order's authorisations is `requested`
/// at a time (a unique index): of two payments racing, one is refused.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order, provider = provider))]
pub async fn insert_authorisation(
    scope: &impl TenantScoped,
    order: Uuid,
    provider: &str,
    reference: &str,
    amount: Money,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    payment_authorisations::Entity::insert(payment_authorisations::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_of(scope)),
        order_id: Set(order),
        provider: Set(provider.to_owned()),
        reference: Set(reference.to_owned()),
        amount: Set(amount.amount),
        currency: Set(amount.currency.into()),
        status: Set(AuthorisationStatus::Requested),
        ..Default::default()
    })
    .exec_without_returning(scope.conn())
    .await?;
    Ok(id)
}

/// The shop's authorisations, filtered by the caller, locked until the transaction
/// ends.
fn locked_authorisations(
    scope: &impl TenantScoped,
) -> sea_orm::Select<payment_authorisations::Entity> {
    payment_authorisations::Entity::find()
        .filter(payment_authorisations::Column::TenantId.eq(tenant_of(scope)))
        .lock_exclusive()
}

/// The authorisation `provider` knows as `reference`, locked until the transaction
/// ends.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), provider = provider))]
pub async fn authorisation(
    scope: &impl TenantScoped,
    provider: &str,
    reference: &str,
) -> Result<Option<AuthorisationRow>, DbErr> {
    locked_authorisations(scope)
        .filter(payment_authorisations::Column::Provider.eq(provider))
        .filter(payment_authorisations::Column::Reference.eq(reference))
        .one(scope.conn())
        .await
}

/// The authorisation `id`, locked until the transaction ends.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), authorisation = %id))]
pub async fn authorisation_by_id(
    scope: &impl TenantScoped,
    id: Uuid,
) -> Result<Option<AuthorisationRow>, DbErr> {
    locked_authorisations(scope)
        .filter(payment_authorisations::Column::Id.eq(id))
        .one(scope.conn())
        .await
}

/// The order's authorisation whose gateway is being asked now (`requested`), if
/// any, locked until the transaction ends.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn requested_authorisation(
    scope: &impl TenantScoped,
    order: Uuid,
) -> Result<Option<AuthorisationRow>, DbErr> {
    locked_authorisations(scope)
        .filter(payment_authorisations::Column::OrderId.eq(order))
        .filter(payment_authorisations::Column::Status.eq(AuthorisationStatus::Requested))
        .one(scope.conn())
        .await
}

/// Settles an open authorisation from `from` to `to`; answers whether it was still
/// `from`. Only a row still in `from` changes (one statement), so of two
/// settlements racing, one wins.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), authorisation = %id, from = from.as_str(), to = to.as_str()))]
pub async fn settle_authorisation(
    scope: &impl TenantScoped,
    id: Uuid,
    from: AuthorisationStatus,
    to: AuthorisationStatus,
) -> Result<bool, DbErr> {
    let result = payment_authorisations::Entity::update_many()
        .col_expr(payment_authorisations::Column::Status, Expr::value(to))
        .col_expr(
            payment_authorisations::Column::UpdatedAt,
            Expr::current_timestamp(),
        )
        .filter(payment_authorisations::Column::TenantId.eq(tenant_of(scope)))
        .filter(payment_authorisations::Column::Id.eq(id))
        .filter(payment_authorisations::Column::Status.eq(from))
        .exec(scope.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Voids an order's open authorisations, requested or pending (the order was paid
/// otherwise, or will never be); answers how many. A gateway's later answer about
/// one of them can no longer pay the order.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order))]
pub async fn void_authorisations(scope: &impl TenantScoped, order: Uuid) -> Result<u64, DbErr> {
    let result = payment_authorisations::Entity::update_many()
        .col_expr(
            payment_authorisations::Column::Status,
            Expr::value(AuthorisationStatus::Voided),
        )
        .col_expr(
            payment_authorisations::Column::UpdatedAt,
            Expr::current_timestamp(),
        )
        .filter(payment_authorisations::Column::TenantId.eq(tenant_of(scope)))
        .filter(payment_authorisations::Column::OrderId.eq(order))
        .filter(
            payment_authorisations::Column::Status
                .is_in([AuthorisationStatus::Requested, AuthorisationStatus::Pending]),
        )
        .exec(scope.conn())
        .await?;
    Ok(result.rows_affected)
}
