//! Giving money back: a cancellation refunds whatever is left of what was paid, a
//! refund part or all of it. The provider is asked with no transaction open and no
//! order row locked, as for a buyer's payment ([`super::payment`]):
//!
//! 1. [`start_refund`] or [`start_cancel`]: in the caller's short transaction with
//!    the order locked, the move is checked and the money to give back is recorded
//!    as a `pending` refund; the caller commits. A pending refund counts as
//!    refunded when a later request checks what is left, so refunds and
//!    cancellations racing never give back more than was paid, nor the same money
//!    twice.
//! 2. [`give_back`]: the provider returns the money, with nothing held.
//! 3. [`finish_refund`] or [`finish_cancel`]: in a second transaction with the order
//!    locked again, the refund is settled (`succeeded` or `failed`) and the order
//!    moves as it now stands.

use super::{Locked, advance, current, lock, shop_contact};
use crate::domain::{Action, OrderStatus, PaymentKind, PaymentStatus};
use crate::emails;
use crate::events;
use crate::payments::{PaymentError, PaymentProvider};
use crate::store::{self, NewPayment};
use crate::views::{OrderView, money};
use caravan_shared::ApiError;
use caravan_shared::domain::Money;
use caravan_shared::mail;
use caravan_shared::tenancy::TenantScoped;
use serde_json::json;
use uuid::Uuid;

fn provider_failed(error: &PaymentError) -> ApiError {
    match error {
        PaymentError::Timeout => {
            ApiError::unavailable("the payment provider did not answer in time; try again")
        }
        other => ApiError::unavailable(format!("the payment provider refused: {other}")),
    }
}

/// A refund recorded as pending, before its provider is asked.
pub struct Refunding {
    order: Uuid,
    /// The pending refund's payment record.
    refund: Uuid,
    amount: Money,
    /// The reference of the payment being refunded.
    reference: String,
    /// The provider that returns it.
    provider: String,
    actor: String,
}

impl Refunding {
    /// The name of the provider that returns the money.
    pub fn provider(&self) -> &str {
        &self.provider
    }
}

/// How a cancellation began.
pub enum Cancelling {
    /// Nothing was left to give back: cancelled in the caller's transaction.
    Done(Box<OrderView>),
    /// Money goes back first: ask the provider ([`give_back`]), then
    /// [`finish_cancel`].
    Refunding(Refunding),
}

/// How the second step ended. Either way, the caller commits what was recorded.
pub enum Finished {
    /// The order as it now stands.
    Done(Box<OrderView>),
    /// The answer is this error (the provider refused, or the order moved
    /// meanwhile); the refund's outcome is recorded all the same.
    Refused(ApiError),
}

/// Records `amount` of the locked `order` as being refunded through `provider`.
async fn record_pending(
    scope: &impl TenantScoped,
    order: &Locked,
    provider: &dyn PaymentProvider,
    amount: Money,
    actor: &str,
) -> Result<Refunding, ApiError> {
    let row = &order.row;
    let reference = store::payments(scope, row.id)
        .await?
        .into_iter()
        .rev()
        .find(|p| p.kind == PaymentKind::Payment && p.status == PaymentStatus::Succeeded)
        .and_then(|p| p.reference)
        .unwrap_or_default();
    let refund = store::insert_payment(
        scope,
        row.id,
        &NewPayment {
            provider: provider.name(),
            kind: PaymentKind::Refund,
            status: PaymentStatus::Pending,
            amount: amount.amount,
            reference: None,
            detail: None,
            actor,
        },
    )
    .await?;
    Ok(Refunding {
        order: row.id,
        refund,
        amount,
        reference,
        provider: provider.name().to_owned(),
        actor: actor.to_owned(),
    })
}

/// Asks `provider` to return the money of `refunding`. Call it with no transaction
/// open; answers the refund's reference.
#[tracing::instrument(skip_all, fields(order = %refunding.order, refund = %refunding.refund))]
pub async fn give_back(
    provider: &dyn PaymentProvider,
    refunding: &Refunding,
) -> Result<String, PaymentError> {
    provider
        .refund(&refunding.reference, refunding.amount)
        .await
}

/// Locks the order of `refunding` again and settles its refund as the provider
/// `answered`: `Err` with the answer to give when the provider refused.
async fn settle_refund(
    scope: &impl TenantScoped,
    refunding: &Refunding,
    answered: Result<String, PaymentError>,
) -> Result<Result<Locked, ApiError>, ApiError> {
    let order = lock(scope, refunding.order).await?.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "order {} vanished while it was being refunded",
            refunding.order
        ))
    })?;
    let (status, reference, detail) = match &answered {
        Ok(reference) => (PaymentStatus::Succeeded, Some(reference.as_str()), None),
        Err(error) => (PaymentStatus::Failed, None, Some(error.to_string())),
    };
    if !store::settle_refund(
        scope,
        refunding.refund,
        status,
        reference,
        detail.as_deref(),
    )
    .await?
    {
        return Err(ApiError::internal(anyhow::anyhow!(
            "refund {} of order {} was settled twice",
            refunding.refund,
            refunding.order
        )));
    }
    match answered {
        Ok(_) => {
            store::add_money(scope, refunding.order, 0, refunding.amount.amount, None).await?;
            Ok(Ok(order))
        }
        Err(error) => {
            store::note(
                scope,
                refunding.order,
                &refunding.actor,
                "refund_failed",
                json!({"amount": refunding.amount, "detail": detail}),
            )
            .await?;
            Ok(Err(provider_failed(&error)))
        }
    }
}

/// Records a returned refund against the order as it now stands: it moves to
/// (partially) refunded when a refund is still a move it allows (one cancelled
/// meanwhile stays cancelled).
async fn refunded(
    scope: &impl TenantScoped,
    order: &Locked,
    amount: Money,
    reason: Option<&str>,
    actor: &str,
) -> Result<OrderView, ApiError> {
    let row = &order.row;
    // `row` was read before this refund was added.
    let full = row.refunded + amount.amount >= row.paid;
    if let Ok(transition) = row.status.apply(Action::Refund { full }) {
        store::set_status(scope, row.id, transition).await?;
    }
    store::note(
        scope,
        row.id,
        actor,
        "refunded",
        json!({"amount": amount, "reason": reason}),
    )
    .await?;
    let (after, view) = current(scope, row.id).await?;
    events::publish(
        scope,
        "order.refunded",
        &after,
        &order.lines,
        json!({"amount": amount, "reason": reason}),
    )
    .await?;
    let shop = shop_contact(scope, store::settings(scope).await?).await?;
    mail::enqueue(scope.conn(), &emails::refunded(&view, &shop.name, amount)).await?;
    Ok(view)
}

/// Why an order cancelled by `actor` for `reason` was, as its buyer is told:
/// only the platform's own reasons are passed on, and a called-off harvest's.
fn because<'a>(
    row: &crate::store::OrderRow,
    refund: Option<Money>,
    actor: &str,
    reason: &'a str,
) -> emails::Because<'a> {
    match actor {
        super::group::GROUP_ACTOR => emails::Because::GroupUnformed,
        super::preorder::HARVEST_ACTOR
            if row.status == OrderStatus::Preordered && row.balance_due_at.is_some() =>
        {
            emails::Because::BalanceUnpaid {
                kept: refund.is_none(),
            }
        }
        super::preorder::HARVEST_ACTOR => emails::Because::HarvestCalledOff(reason),
        _ => emails::Because::Unsaid,
    }
}

/// Cancels the locked `order`, whose money (if any) was given back: `refund`.
async fn cancelled(
    scope: &impl TenantScoped,
    order: &Locked,
    refund: Option<Money>,
    reason: &str,
    actor: &str,
) -> Result<OrderView, ApiError> {
    let row = &order.row;
    let transition = advance(row, Action::Cancel)?;
    store::set_status(scope, row.id, transition).await?;
    store::void_authorisations(scope, row.id).await?;
    store::set_cancel_reason(scope, row.id, reason).await?;
    store::note(
        scope,
        row.id,
        actor,
        "cancelled",
        json!({"reason": reason, "refunded": refund}),
    )
    .await?;
    store::clear_deadline(scope.conn(), row.id).await?;
    let (after, view) = current(scope, row.id).await?;
    // Paid stock was committed and goes back on hand; a group order that never
    // formed still only holds its stock, which is released; a pre-order took none.
    let restock = row.paid > 0
        && row.status != OrderStatus::AwaitingGroup
        && row.preorder_campaign_id.is_none();
    events::publish(
        scope,
        "order.cancelled",
        &after,
        &order.lines,
        json!({"reason": reason, "restock": restock, "refund": refund}),
    )
    .await?;
    let shop = shop_contact(scope, store::settings(scope).await?).await?;
    mail::enqueue(
        scope.conn(),
        &emails::cancelled(
            &view,
            &shop.name,
            refund,
            because(row, refund, actor, reason),
        ),
    )
    .await?;
    Ok(view)
}

/// Begins cancelling an order: an unpaid one (or one whose money is all refunded
/// or being refunded) is cancelled at once and its stock released; a paid one has
/// what is left recorded as a pending refund, and is cancelled once that money is
/// back ([`finish_cancel`]).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order.row.id))]
pub async fn start_cancel(
    scope: &impl TenantScoped,
    order: &Locked,
    provider: Option<&dyn PaymentProvider>,
    reason: &str,
    actor: &str,
) -> Result<Cancelling, ApiError> {
    let row = &order.row;
    advance(row, Action::Cancel)?;
    let in_flight = store::refunds_in_flight(scope, row.id).await?;
    let outstanding = money(row.paid - row.refunded - in_flight, row.currency);
    if outstanding.amount <= 0 {
        return Ok(Cancelling::Done(Box::new(
            cancelled(scope, order, None, reason, actor).await?,
        )));
    }
    let provider = provider.ok_or_else(|| {
        ApiError::unavailable("the provider that took the payment is not offered any more")
    })?;
    Ok(Cancelling::Refunding(
        record_pending(scope, order, provider, outstanding, actor).await?,
    ))
}

/// Cancels the locked `order` and keeps what was paid: a pre-order's deposit,
/// forfeited under the shop's policy when its balance went unpaid.
pub async fn cancel_keeping_payment(
    scope: &impl TenantScoped,
    order: &Locked,
    reason: &str,
    actor: &str,
) -> Result<OrderView, ApiError> {
    cancelled(scope, order, None, reason, actor).await
}

/// Records the provider's answer to a cancellation's refund and, when the money is
/// back, cancels the order as it now stands. An order shipped or refunded meanwhile
/// is not cancelled: the money given back is recorded as a refund, and the answer
/// is 409.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %refunding.order, refund = %refunding.refund))]
pub async fn finish_cancel(
    scope: &impl TenantScoped,
    refunding: &Refunding,
    answered: Result<String, PaymentError>,
    reason: &str,
) -> Result<Finished, ApiError> {
    let order = match settle_refund(scope, refunding, answered).await? {
        Ok(order) => order,
        Err(refused) => return Ok(Finished::Refused(refused)),
    };
    let (amount, actor) = (refunding.amount, refunding.actor.as_str());
    match advance(&order.row, Action::Cancel) {
        Ok(_) => Ok(Finished::Done(Box::new(
            cancelled(scope, &order, Some(amount), reason, actor).await?,
        ))),
        // Cancelled meanwhile by a request that found this money already on its
        // way back: what the caller asked for is done.
        Err(_) if order.row.status == OrderStatus::Cancelled => Ok(Finished::Done(Box::new(
            refunded(scope, &order, amount, Some(reason), actor).await?,
        ))),
        Err(illegal) => {
            refunded(scope, &order, amount, Some(reason), actor).await?;
            Ok(Finished::Refused(illegal))
        }
    }
}

/// Begins returning part or all of what was paid (`None`: everything left); never
/// more than is left once the refunds in flight are counted.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order.row.id))]
pub async fn start_refund(
    scope: &impl TenantScoped,
    order: &Locked,
    provider: &dyn PaymentProvider,
    amount: Option<Money>,
    actor: &str,
) -> Result<Refunding, ApiError> {
    let row = &order.row;
    let in_flight = store::refunds_in_flight(scope, row.id).await?;
    let left = row.paid - row.refunded - in_flight;
    let amount = amount.unwrap_or_else(|| money(left, row.currency));
    if amount.currency != row.currency.0 {
        return Err(ApiError::invalid_field(
            "amount.currency",
            format!("must be the order's currency, {}", row.currency.0),
        ));
    }
    if amount.amount <= 0 {
        return Err(ApiError::invalid_field(
            "amount.amount",
            "must be more than 0",
        ));
    }
    // Check the status first: an unpaid order has nothing to refund.
    let full = row.refunded + in_flight + amount.amount >= row.paid;
    advance(row, Action::Refund { full })?;
    if amount.amount > left {
        let in_flight = if in_flight > 0 {
            format!(
                ", being refunded {}",
                money(in_flight, row.currency).format()
            )
        } else {
            String::new()
        };
        return Err(ApiError::invalid_field(
            "amount.amount",
            format!(
                "at most {} can be refunded (paid {}, refunded {}{in_flight})",
                money(left.max(0), row.currency).format(),
                money(row.paid, row.currency).format(),
                money(row.refunded, row.currency).format()
            ),
        ));
    }
    record_pending(scope, order, provider, amount, actor).await
}

/// Records the provider's answer to a refund and moves the order as it now stands.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %refunding.order, refund = %refunding.refund))]
pub async fn finish_refund(
    scope: &impl TenantScoped,
    refunding: &Refunding,
    answered: Result<String, PaymentError>,
    reason: Option<&str>,
) -> Result<Finished, ApiError> {
    let order = match settle_refund(scope, refunding, answered).await? {
        Ok(order) => order,
        Err(refused) => return Ok(Finished::Refused(refused)),
    };
    let view = refunded(scope, &order, refunding.amount, reason, &refunding.actor).await?;
    Ok(Finished::Done(Box::new(view)))
}
