//! Payments, refunds and payment authorisations.

use super::{StoredCurrency, tenant_of};
use crate::domain::AuthorisationStatus;
use caravan_shared::db::statement;
use caravan_shared::domain::Money;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// A payment or refund.
#[derive(Debug, Clone, FromQueryResult)]
pub struct PaymentRow {
    pub id: Uuid,
    pub provider: String,
    pub kind: String,
    pub status: String,
    pub amount: i64,
    pub reference: Option<String>,
    pub detail: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// A payment or refund to record.
pub struct NewPayment<'a> {
    pub provider: &'a str,
    pub kind: &'a str,
    pub status: &'a str,
    pub amount: i64,
    pub reference: Option<String>,
    pub detail: Option<String>,
    pub actor: &'a str,
}

/// Records a payment or refund.
pub async fn insert_payment(
    scope: &impl TenantScoped,
    order: Uuid,
    payment: &NewPayment<'_>,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO payments (id, tenant_id, order_id, provider, kind, status, amount, reference, detail, actor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            vec![
                id.into(),
                tenant_of(scope),
                order.into(),
                payment.provider.into(),
                payment.kind.into(),
                payment.status.into(),
                payment.amount.into(),
                payment.reference.clone().into(),
                payment.detail.clone().into(),
                payment.actor.into(),
            ],
        ))
        .await?;
    Ok(id)
}

/// What is being refunded of `order` right now: refunds recorded as pending whose
/// provider has not answered yet. It counts as refunded when checking what is left,
/// so two refunds in flight never give back more than was paid.
pub async fn refunds_in_flight(scope: &impl TenantScoped, order: Uuid) -> Result<i64, DbErr> {
    let row = scope
        .conn()
        .query_one_raw(statement(
            "SELECT coalesce(sum(amount), 0)::bigint AS in_flight FROM payments \
             WHERE tenant_id = $1 AND order_id = $2 AND kind = 'refund' AND status = 'pending'",
            vec![tenant_of(scope), order.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("refunds in flight".into()))?;
    row.try_get("", "in_flight")
}

/// Settles a pending refund as `status` (`succeeded` or `failed`), once: answers
/// whether it was still pending.
pub async fn settle_refund(
    scope: &impl TenantScoped,
    refund: Uuid,
    status: &str,
    reference: Option<&str>,
    detail: Option<&str>,
) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "UPDATE payments SET status = $3, reference = coalesce($4, reference), detail = $5 \
             WHERE tenant_id = $1 AND id = $2 AND kind = 'refund' AND status = 'pending'",
            vec![
                tenant_of(scope),
                refund.into(),
                status.into(),
                reference.map(str::to_owned).into(),
                detail.map(str::to_owned).into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives up a claimed idempotency key that has no answer yet, so that a retry with
/// it is a new request (as when the work's transaction rolls back).
pub async fn release_idempotency_key<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    key: &str,
) -> Result<(), DbErr> {
    conn.execute_raw(statement(
        "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND response_status IS NULL",
        vec![scope.into(), key.into()],
    ))
    .await?;
    Ok(())
}

/// An order's payments and refunds, oldest first.
pub async fn payments(scope: &impl TenantScoped, order: Uuid) -> Result<Vec<PaymentRow>, DbErr> {
    PaymentRow::find_by_statement(statement(
        "SELECT id, provider, kind, status, amount, reference, detail, actor, created_at FROM payments \
         WHERE tenant_id = $1 AND order_id = $2 ORDER BY created_at, id",
        vec![tenant_of(scope), order.into()],
    ))
    .all(scope.conn())
    .await
}

/// A card gateway's authorisation of an order's payment.
#[derive(Debug, Clone, FromQueryResult)]
pub struct AuthorisationRow {
    pub id: Uuid,
    pub order_id: Uuid,
    pub provider: String,
    pub reference: String,
    pub amount: i64,
    pub currency: StoredCurrency,
    pub status: AuthorisationStatus,
    pub created_at: DateTime<Utc>,
}

const AUTHORISATION: &str =
    "id, order_id, provider, reference, amount, currency, status, created_at";

/// Records an authorisation a gateway is about to be asked for, `requested` until
/// its answer is recorded. At most one of an order's authorisations is `requested`
/// at a time (a unique index): of two payments racing, one is refused.
pub async fn insert_authorisation(
    scope: &impl TenantScoped,
    order: Uuid,
    provider: &str,
    reference: &str,
    amount: Money,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO payment_authorisations (id, tenant_id, order_id, provider, reference, amount, currency, status) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'requested')",
            vec![
                id.into(),
                tenant_of(scope),
                order.into(),
                provider.into(),
                reference.into(),
                amount.amount.into(),
                amount.currency.as_str().into(),
            ],
        ))
        .await?;
    Ok(id)
}

/// The authorisation `provider` knows as `reference`, locked until the transaction
/// ends.
pub async fn authorisation(
    scope: &impl TenantScoped,
    provider: &str,
    reference: &str,
) -> Result<Option<AuthorisationRow>, DbErr> {
    AuthorisationRow::find_by_statement(statement(
        &format!(
            "SELECT {AUTHORISATION} FROM payment_authorisations \
             WHERE tenant_id = $1 AND provider = $2 AND reference = $3 FOR UPDATE"
        ),
        vec![tenant_of(scope), provider.into(), reference.into()],
    ))
    .one(scope.conn())
    .await
}

/// The authorisation `id`, locked until the transaction ends.
pub async fn authorisation_by_id(
    scope: &impl TenantScoped,
    id: Uuid,
) -> Result<Option<AuthorisationRow>, DbErr> {
    AuthorisationRow::find_by_statement(statement(
        &format!(
            "SELECT {AUTHORISATION} FROM payment_authorisations \
             WHERE tenant_id = $1 AND id = $2 FOR UPDATE"
        ),
        vec![tenant_of(scope), id.into()],
    ))
    .one(scope.conn())
    .await
}

/// The order's authorisation whose gateway is being asked now (`requested`), if any.
pub async fn requested_authorisation(
    scope: &impl TenantScoped,
    order: Uuid,
) -> Result<Option<AuthorisationRow>, DbErr> {
    AuthorisationRow::find_by_statement(statement(
        &format!(
            "SELECT {AUTHORISATION} FROM payment_authorisations \
             WHERE tenant_id = $1 AND order_id = $2 AND status = 'requested' FOR UPDATE"
        ),
        vec![tenant_of(scope), order.into()],
    ))
    .one(scope.conn())
    .await
}

/// Settles an open authorisation from `from` to `to`; answers whether it was still
/// `from`. Only a row still in `from` changes, so of two settlements racing, one
/// wins.
pub async fn settle_authorisation(
    scope: &impl TenantScoped,
    id: Uuid,
    from: AuthorisationStatus,
    to: AuthorisationStatus,
) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "UPDATE payment_authorisations SET status = $4, updated_at = now() \
             WHERE tenant_id = $1 AND id = $2 AND status = $3",
            vec![
                tenant_of(scope),
                id.into(),
                from.as_str().into(),
                to.as_str().into(),
            ],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Voids an order's open authorisations, requested or pending (the order was paid
/// otherwise, or will never be); answers how many. A gateway's later answer about
/// one of them can no longer pay the order.
pub async fn void_authorisations(scope: &impl TenantScoped, order: Uuid) -> Result<u64, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "UPDATE payment_authorisations SET status = 'voided', updated_at = now() \
             WHERE tenant_id = $1 AND order_id = $2 AND status IN ('requested', 'pending')",
            vec![tenant_of(scope), order.into()],
        ))
        .await?;
    Ok(result.rows_affected())
}
