//! A buyer's payment. The provider is asked with no transaction open, no order row
//! locked and no pool connection held, however long it takes:
//!
//! 1. [`start`]: in a short transaction with the order locked, the order must wait
//!    for payment (one past its deadline expires instead) with no other attempt in
//!    flight, and the attempt of a provider that notifies is recorded as a
//!    `requested` authorisation under a reference made here. Committed.
//! 2. [`ask`]: the provider authorises and captures, with nothing held.
//! 3. [`finish`]: in a second transaction with the order locked again, the answer is
//!    recorded against the order as it now stands. Meanwhile the gateway's
//!    notification may have settled the attempt, and staff may have marked the order
//!    paid or cancelled it, or it may have expired (each voids the attempt). Money
//!    taken for an order that no longer waits for it is given back at once, so an
//!    order is paid once and never keeps more than its total.
//!
//! [`pay`] and [`payment_attempt`] record what a payment came to (staff and
//! provider notifications use them too); [`expire`] ends an order not paid in time.

use super::{Locked, advance, current, illegal, lock, settle, view};
use crate::domain::IllegalTransition;
use crate::domain::{Action, AuthorisationStatus, OrderStatus, PaymentKind, PaymentStatus};
use crate::events;
use crate::payments::{ANSWER_WITHIN, Authorisation, Charge, PaymentError, PaymentProvider};
use crate::store::{self, NewPayment, OrderRow};
use crate::views::{OrderView, money};
use caravan_shared::tenancy::{TenantScoped, TenantTx};
use caravan_shared::{ApiError, ErrorCode, TenantId};
use chrono::Utc;
use sea_orm::DatabaseConnection;
use serde_json::json;
use uuid::Uuid;

/// A payment attempt, recorded before its provider is asked.
pub struct Attempt {
    order: Uuid,
    charge: Charge,
    instructions: String,
    /// The `requested` authorisation of a provider that notifies.
    authorisation: Option<Uuid>,
}

/// What the provider answered.
#[derive(Debug)]
pub enum Answer {
    /// The money was taken; the capture's reference.
    Captured(String),
    /// The money comes later (bank transfer, cash on delivery): what the buyer does.
    Waiting(String),
    /// Not taken, or not known to be (a timeout).
    Refused(PaymentError),
}

/// How a payment ended for the buyer who asked.
pub enum Outcome {
    /// The order is paid.
    Paid(OrderView),
    /// The order waits for the money (its instructions are in `payments[].detail`).
    Waiting(OrderView),
}

/// What paying an order now does: the move it makes, the money it takes, and the
/// time it must come by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The move: paid, into a group, pre-ordered, or shipped from the harvest.
    pub action: Action,
    /// The money it takes, in the order's minor units.
    pub amount: i64,
    /// Until when it may be paid.
    pub until: chrono::DateTime<Utc>,
}

/// What paying `row` now takes, or why it cannot be paid: an order waiting for
/// payment pays its total (a group order into its group, a pre-order its deposit
/// if it has one), and a pre-order whose harvest is announced pays its balance.
pub fn due(row: &OrderRow) -> Result<Due, IllegalTransition> {
    let rest = row.total - row.paid;
    let (action, amount, until) = match row.status {
        OrderStatus::PendingPayment if row.group_id.is_some() => {
            (Action::PayIntoGroup, rest, row.expires_at)
        }
        OrderStatus::PendingPayment if row.preorder_campaign_id.is_some() => (
            Action::Preorder,
            row.deposit.unwrap_or(rest),
            row.expires_at,
        ),
        OrderStatus::Preordered => match row.balance_due_at {
            Some(until) if rest > 0 => (Action::Harvest, rest, until),
            _ => {
                return Err(IllegalTransition {
                    from: row.status,
                    action: Action::Pay,
                });
            }
        },
        _ => (Action::Pay, rest, row.expires_at),
    };
    row.status.allows(action)?;
    Ok(Due {
        action,
        amount,
        until,
    })
}

/// The 409 for a payment while another attempt of the order is in flight.
fn in_progress() -> ApiError {
    ApiError::conflict(
        ErrorCode::PaymentInProgress,
        "another payment of this order is in progress; read the order before paying again",
    )
}

/// The 409 for an order that expired before it was paid.
fn expired() -> ApiError {
    ApiError::conflict(
        ErrorCode::OrderExpired,
        "the order expired before it was paid; its stock was released",
    )
    .with_field("status", OrderStatus::Expired.as_str())
}

/// Records an attempt to pay the locked `order` with `provider`, in `tx`, and
/// commits it: the provider is asked afterwards, with no transaction open.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), order = %order.row.id, provider = provider.name()))]
pub async fn start(
    tx: TenantTx,
    order: &Locked,
    provider: &dyn PaymentProvider,
    card_number: Option<String>,
) -> Result<Attempt, ApiError> {
    let row = &order.row;
    let owed = due(row).map_err(illegal)?;
    if owed.action == Action::Harvest && owed.until <= Utc::now() {
        return Err(ApiError::conflict(
            ErrorCode::OrderExpired,
            "the balance was due before now; the order is cancelled under the shop's deposit policy",
        )
        .with_field("balance_due_at", owed.until.to_rfc3339()));
    }
    if owed.action != Action::Harvest && row.expires_at <= Utc::now() {
        // Past its deadline: it expires now rather than being paid late.
        expire(&tx, order).await?;
        tx.commit().await?;
        return Err(expired());
    }
    let instructions = store::settings(&tx)
        .await?
        .bank_transfer_details
        .unwrap_or_else(|| "the shop will contact you with payment details".to_owned());
    let charge = Charge {
        order_id: row.id,
        amount: money(owed.amount, row.currency),
        card_number,
        reference: provider.new_reference(),
    };
    // Recorded before the gateway is asked, as a real integration does: whatever the
    // gateway later reports about this attempt names this reference, and nothing
    // else it reports can touch the order.
    let authorisation = if provider.notifies() {
        if let Some(asking) = store::requested_authorisation(&tx, row.id).await? {
            let abandoned = (Utc::now() - asking.created_at)
                .to_std()
                .is_ok_and(|waited| waited >= ANSWER_WITHIN);
            if !abandoned {
                return Err(in_progress());
            }
            // Asked, and its answer never recorded (the request that asked ended
            // first): like a timeout, only the gateway's notification settles it.
            settle(&tx, asking.id, asking.status, AuthorisationStatus::Pending).await?;
            payment_attempt(
                &tx,
                row,
                &Unpaid {
                    provider: &asking.provider,
                    status: PaymentStatus::Pending,
                    detail: "the payment provider's answer never arrived; waiting for its notification",
                    reference: Some(&asking.reference),
                    actor: "system",
                },
            )
            .await?;
        }
        Some(
            store::insert_authorisation(
                &tx,
                row.id,
                provider.name(),
                &charge.reference,
                charge.amount,
            )
            .await?,
        )
    } else {
        None
    };
    tx.commit().await?;
    Ok(Attempt {
        order: row.id,
        charge,
        instructions,
        authorisation,
    })
}

/// Asks the provider for the money: authorise, then capture. Call it with no
/// transaction open.
#[tracing::instrument(skip_all, fields(order = %attempt.order, provider = provider.name()))]
pub async fn ask(provider: &dyn PaymentProvider, attempt: &Attempt) -> Answer {
    match provider
        .authorise(&attempt.charge, &attempt.instructions)
        .await
    {
        Ok(Authorisation::Approved { reference }) => {
            match provider.capture(&reference, attempt.charge.amount).await {
                Ok(captured) => Answer::Captured(captured),
                Err(error) => Answer::Refused(error),
            }
        }
        Ok(Authorisation::Pending { instructions }) => Answer::Waiting(instructions),
        Err(error) => Answer::Refused(error),
    }
}

/// Records the provider's `answer` to `attempt` against the order as it now stands,
/// in a transaction of its own on `db`.
#[tracing::instrument(skip_all, fields(tenant = %tenant, order = %attempt.order, provider = provider.name()))]
pub async fn finish(
    db: &DatabaseConnection,
    tenant: TenantId,
    provider: &dyn PaymentProvider,
    attempt: &Attempt,
    answer: Answer,
) -> Result<Outcome, ApiError> {
    let tx = TenantTx::begin(db, tenant).await?;
    let order = lock(&tx, attempt.order).await?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "order {} vanished while it was being paid",
            attempt.order
        ))
    })?;
    let recorded = match attempt.authorisation {
        Some(id) => Some(
            store::authorisation_by_id(&tx, id)
                .await?
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("authorisation {id} vanished")))?
                .status,
        ),
        None => None,
    };
    // Settles this attempt's authorisation as `outcome`, if it is still open.
    let close = async |outcome: AuthorisationStatus| match (attempt.authorisation, recorded) {
        (Some(id), Some(status)) if status.is_open() && status != outcome => {
            settle(&tx, id, status, outcome).await
        }
        _ => Ok(()),
    };
    if recorded == Some(AuthorisationStatus::Captured) {
        // The gateway's notification came first and paid the order with this very
        // attempt: that is the answer, whatever this late reply says.
        return Ok(Outcome::Paid(commit_view(tx, attempt.order).await?));
    }
    let status = order.row.status;
    let payable = due(&order.row).is_ok();
    let open = recorded.is_none_or(AuthorisationStatus::is_open);
    let reference = attempt.charge.reference.as_str();
    let named = attempt.authorisation.map(|_| reference);
    match answer {
        Answer::Captured(captured) if payable && open => {
            close(AuthorisationStatus::Captured).await?;
            pay(&tx, &order, provider.name(), Some(captured), "buyer").await?;
            Ok(Outcome::Paid(commit_view(tx, attempt.order).await?))
        }
        Answer::Captured(captured) => {
            // Taken after the order stopped waiting for this attempt (paid otherwise,
            // cancelled or expired), or after the gateway's notification reported it
            // failed: the money goes back.
            close(AuthorisationStatus::Voided).await?;
            tx.commit().await?;
            let why = if payable {
                "taken although the payment provider reported it failed".to_owned()
            } else {
                format!("taken after the order was {status}")
            };
            let returned = give_back_late(LateCapture {
                db,
                tenant,
                provider,
                attempt,
                why: &why,
                captured: &captured,
            })
            .await?;
            let back = if returned {
                "the money taken was returned"
            } else {
                "the money taken is being returned"
            };
            if payable {
                Err(ApiError::payment_declined(format!(
                    "the payment provider reported that this payment failed; {back}, and the order still waits for payment"
                )))
            } else {
                Err(too_late(
                    status,
                    format!("the order was {status} before this payment went through; {back}"),
                ))
            }
        }
        _ if !payable => {
            // Paid otherwise, cancelled or expired meanwhile: whatever the gateway
            // says later about this attempt, it can no longer pay the order.
            close(AuthorisationStatus::Voided).await?;
            tx.commit().await?;
            Err(too_late(
                status,
                format!("the order was {status} before this payment went through"),
            ))
        }
        _ if !open => {
            // The gateway's notification reported meanwhile that it failed.
            tx.rollback().await?;
            Err(ApiError::payment_declined(
                "the payment provider reported that the payment failed; the order still waits for payment",
            ))
        }
        Answer::Waiting(instructions) => {
            close(AuthorisationStatus::Pending).await?;
            payment_attempt(
                &tx,
                &order.row,
                &Unpaid {
                    provider: provider.name(),
                    status: PaymentStatus::Pending,
                    detail: &instructions,
                    reference: named,
                    actor: "buyer",
                },
            )
            .await?;
            Ok(Outcome::Waiting(commit_view(tx, attempt.order).await?))
        }
        Answer::Refused(PaymentError::Timeout) if attempt.authorisation.is_some() => {
            // The gateway may still take the money: the attempt stays pending under
            // its reference until the gateway's notification settles it.
            close(AuthorisationStatus::Pending).await?;
            payment_attempt(
                &tx,
                &order.row,
                &Unpaid {
                    provider: provider.name(),
                    status: PaymentStatus::Pending,
                    detail: "the payment provider did not answer in time; waiting for its notification",
                    reference: Some(reference),
                    actor: "buyer",
                },
            )
            .await?;
            tx.commit().await?;
            Err(ApiError::upstream_timeout(format!(
                "the payment provider did not answer in time; the payment is pending as {reference}, and the order is paid if the provider confirms it. Read the order before paying again"
            )))
        }
        Answer::Refused(PaymentError::Timeout) => {
            payment_attempt(
                &tx,
                &order.row,
                &Unpaid {
                    provider: provider.name(),
                    status: PaymentStatus::Failed,
                    detail: "timeout",
                    reference: None,
                    actor: "buyer",
                },
            )
            .await?;
            tx.commit().await?;
            Err(ApiError::upstream_timeout(
                "the payment provider did not answer in time; nothing was charged, try again",
            ))
        }
        Answer::Refused(error) => {
            close(AuthorisationStatus::Declined).await?;
            let detail = error.to_string();
            payment_attempt(
                &tx,
                &order.row,
                &Unpaid {
                    provider: provider.name(),
                    status: PaymentStatus::Declined,
                    detail: &detail,
                    reference: named,
                    actor: "buyer",
                },
            )
            .await?;
            tx.commit().await?;
            Err(ApiError::payment_declined(format!(
                "{detail}; the order still waits for payment"
            )))
        }
    }
}

/// The order's view, then commits.
async fn commit_view(tx: TenantTx, order: Uuid) -> Result<OrderView, ApiError> {
    let view = view(&tx, order)
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    tx.commit().await?;
    Ok(view)
}

/// The 409 for a payment that came too late for the order, now `status`.
fn too_late(status: OrderStatus, detail: String) -> ApiError {
    let code = if status == OrderStatus::Expired {
        ErrorCode::OrderExpired
    } else {
        ErrorCode::InvalidStatusChange
    };
    ApiError::conflict(code, detail).with_field("status", status.as_str())
}

/// Money a gateway took that cannot pay the order, and where to record its return.
struct LateCapture<'a> {
    /// The order database, for a transaction of the return's own.
    db: &'a DatabaseConnection,
    /// The order's shop.
    tenant: TenantId,
    /// The provider that took the money.
    provider: &'a dyn PaymentProvider,
    /// The attempt that took it.
    attempt: &'a Attempt,
    /// Why it cannot pay the order.
    why: &'a str,
    /// The capture's reference.
    captured: &'a str,
}

/// Returns money `captured` that cannot pay the order (`why`), asking the provider
/// with no transaction open, then records it in a transaction of its own as a
/// failed payment naming both references, so the order's `paid` is untouched.
/// Answers whether the provider gave it back.
async fn give_back_late(late: LateCapture<'_>) -> Result<bool, ApiError> {
    let LateCapture {
        db,
        tenant,
        provider,
        attempt,
        why,
        captured,
    } = late;
    let amount = attempt.charge.amount;
    tracing::warn!(
        order = %attempt.order, reference = captured, why,
        "a payment that cannot pay the order was taken; returning it"
    );
    let returned = provider.refund(captured, amount).await;
    let (detail, action) = match &returned {
        Ok(refund) => (
            format!("{why}; returned in full ({refund})"),
            "payment_returned",
        ),
        Err(error) => {
            tracing::error!(
                order = %attempt.order, reference = captured, %error,
                "a payment taken too late could not be returned; return it by hand"
            );
            (
                format!("{why}; returning it failed ({error}): return it by hand"),
                "payment_return_failed",
            )
        }
    };
    let tx = TenantTx::begin(db, tenant).await?;
    store::insert_payment(
        &tx,
        attempt.order,
        &NewPayment {
            provider: provider.name(),
            kind: PaymentKind::Payment,
            status: PaymentStatus::Failed,
            amount: amount.amount,
            reference: Some(captured.to_owned()),
            detail: Some(detail.clone()),
            actor: "buyer",
        },
    )
    .await?;
    store::note(
        &tx,
        attempt.order,
        "system",
        action,
        json!({
            "provider": provider.name(),
            "reference": captured,
            "amount": amount,
            "refund_reference": returned.as_ref().ok(),
            "detail": detail,
        }),
    )
    .await?;
    tx.commit().await?;
    Ok(returned.is_ok())
}

/// Records a successful payment of the whole order and marks it paid.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order.row.id, provider = provider))]
pub async fn pay(
    scope: &impl TenantScoped,
    order: &Locked,
    provider: &str,
    reference: Option<String>,
    actor: &str,
) -> Result<(), ApiError> {
    let row = &order.row;
    // A group order waits, paid, for its group to form; a pre-order for its
    // harvest.
    let owed = due(row).map_err(illegal)?;
    let transition = advance(row, owed.action)?;
    let amount = owed.amount;
    store::insert_payment(
        scope,
        row.id,
        &NewPayment {
            provider,
            kind: PaymentKind::Payment,
            status: PaymentStatus::Succeeded,
            amount,
            reference: reference.clone(),
            detail: None,
            actor,
        },
    )
    .await?;
    store::add_money(scope, row.id, amount, 0, Some(provider)).await?;
    store::set_status(scope, row.id, transition).await?;
    // Paid once: an attempt still waiting for its gateway can no longer take money.
    store::void_authorisations(scope, row.id).await?;
    store::note(
        scope,
        row.id,
        actor,
        "paid",
        json!({"provider": provider, "reference": reference, "amount": money(amount, row.currency)}),
    )
    .await?;
    store::clear_deadline(scope.conn(), row.id).await?;
    if let Some(group) = row.group_id {
        return super::group::paid_into(scope, row, group, actor).await;
    }
    if owed.action == Action::Preorder {
        return super::preorder::preordered(scope, order, actor).await;
    }
    let (after, _) = current(scope, row.id).await?;
    events::publish(
        scope,
        "order.paid",
        &after,
        &order.lines,
        json!({"provider": provider}),
    )
    .await?;
    Ok(())
}

/// A payment attempt that took no money.
#[derive(Debug, Clone, Copy)]
pub struct Unpaid<'a> {
    /// The provider asked.
    pub provider: &'a str,
    /// `pending` (a transfer, or a gateway that has not answered), `declined` or
    /// `failed`.
    pub status: PaymentStatus,
    /// Why, or what the buyer is asked to do.
    pub detail: &'a str,
    /// The attempt's reference, if it has one.
    pub reference: Option<&'a str>,
    /// Who asked.
    pub actor: &'a str,
}

/// Records a payment attempt that did not take money (declined, or waiting for a
/// transfer or for a gateway that timed out), with the attempt's reference if it
/// has one.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %row.id, status = attempt.status.as_str()))]
pub async fn payment_attempt(
    scope: &impl TenantScoped,
    row: &OrderRow,
    attempt: &Unpaid<'_>,
) -> Result<(), ApiError> {
    let Unpaid {
        provider,
        status,
        detail,
        reference,
        actor,
    } = *attempt;
    store::insert_payment(
        scope,
        row.id,
        &NewPayment {
            provider,
            kind: PaymentKind::Payment,
            status,
            amount: row.total,
            reference: reference.map(str::to_owned),
            detail: Some(detail.to_owned()),
            actor,
        },
    )
    .await?;
    if status == PaymentStatus::Pending {
        store::add_money(scope, row.id, 0, 0, Some(provider)).await?;
    }
    let action = match status {
        PaymentStatus::Pending => "payment_pending",
        PaymentStatus::Declined => "payment_declined",
        PaymentStatus::Failed | PaymentStatus::Succeeded => "payment_failed",
    };
    store::note(
        scope,
        row.id,
        actor,
        action,
        json!({"provider": provider, "detail": detail, "reference": reference}),
    )
    .await?;
    Ok(())
}

/// Expires an unpaid order past its deadline; its stock is released.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order.row.id))]
pub async fn expire(scope: &impl TenantScoped, order: &Locked) -> Result<(), ApiError> {
    let transition = advance(&order.row, Action::Expire)?;
    store::set_status(scope, order.row.id, transition).await?;
    store::void_authorisations(scope, order.row.id).await?;
    store::note(
        scope,
        order.row.id,
        "system",
        "expired",
        json!({"expires_at": order.row.expires_at}),
    )
    .await?;
    store::clear_deadline(scope.conn(), order.row.id).await?;
    let (after, _) = current(scope, order.row.id).await?;
    events::publish(scope, "order.expired", &after, &order.lines, json!({})).await?;
    Ok(())
}
