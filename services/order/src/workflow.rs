//! What happens to an order after it is placed: payment, fulfilment, delivery,
//! cancellation, expiry and refunds. Each step runs in the caller's tenant
//! transaction with the order's row locked, moves the status only through the state
//! machine (a status is written only from a [`Transition`] it allowed), and writes
//! the payment records, the timeline entry, the event and the emails in that same
//! transaction. A buyer's payment asks its provider between two such transactions,
//! with none open ([`payment`]).

pub mod payment;

use crate::domain::{
    Action, AuthorisationStatus, IllegalTransition, Settled, Shipping, Transition,
};
use crate::emails;
use crate::events;
use crate::payments::{PaymentError, PaymentProvider};
use crate::store::{self, NewPayment, OrderLineRow, OrderRow};
use crate::views::{OrderView, money};
use caravan_shared::ApiError;
use caravan_shared::ErrorCode;
use caravan_shared::FieldError;
use caravan_shared::domain::Money;
use caravan_shared::mail;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::DbErr;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// The 409 for a move the status does not allow; names the current status.
pub fn illegal(error: IllegalTransition) -> ApiError {
    ApiError::conflict(ErrorCode::InvalidStatusChange, error.to_string())
        .with_field("status", error.from.as_str())
}

/// Moves the order by `action` through the state machine, or answers why not (409).
fn advance(row: &OrderRow, action: Action) -> Result<Transition, ApiError> {
    row.status.apply(action).map_err(illegal)
}

/// The 409 for a notification about an authorisation that is already settled.
pub fn settled(error: Settled) -> ApiError {
    ApiError::conflict(
        ErrorCode::AuthorisationSettled,
        format!("{error}; nothing was changed"),
    )
    .with_field("authorisation_status", error.status.as_str())
}

/// Settles an open authorisation as `outcome`, once: of two settlements racing,
/// the second is refused.
pub async fn settle(
    scope: &impl TenantScoped,
    authorisation: Uuid,
    current: AuthorisationStatus,
    outcome: AuthorisationStatus,
) -> Result<(), ApiError> {
    let next = current.settle(outcome).map_err(settled)?;
    if !store::settle_authorisation(scope, authorisation, current, next).await? {
        return Err(settled(Settled { status: current }));
    }
    Ok(())
}

/// An order with its lines, locked for a change.
pub struct Locked {
    /// The order as it was when locked.
    pub row: OrderRow,
    /// Its lines.
    pub lines: Vec<OrderLineRow>,
}

/// Locks an order for a change; `None` when the shop has no such order.
pub async fn lock(scope: &impl TenantScoped, id: Uuid) -> Result<Option<Locked>, DbErr> {
    let Some(row) = store::order(scope, id, true).await? else {
        return Ok(None);
    };
    let lines = store::order_lines(scope, id).await?;
    Ok(Some(Locked { row, lines }))
}

/// An order as it now stands: its row and lines (for events) and its full view.
pub async fn load(
    scope: &impl TenantScoped,
    id: Uuid,
) -> Result<Option<(OrderRow, Vec<OrderLineRow>, OrderView)>, DbErr> {
    let Some(row) = store::order(scope, id, false).await? else {
        return Ok(None);
    };
    let lines = store::order_lines(scope, id).await?;
    let payments = store::payments(scope, id).await?;
    let fulfillments = store::fulfillments(scope, id).await?;
    let view = OrderView::new(row.clone(), &lines, payments, fulfillments);
    Ok(Some((row, lines, view)))
}

/// The full view of an order.
pub async fn view(scope: &impl TenantScoped, id: Uuid) -> Result<Option<OrderView>, DbErr> {
    Ok(load(scope, id).await?.map(|(_, _, view)| view))
}

async fn current(scope: &impl TenantScoped, id: Uuid) -> Result<(OrderRow, OrderView), ApiError> {
    let (row, _, view) = load(scope, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    Ok((row, view))
}

/// The shop's display name and the address and language of its order notices.
pub struct ShopContact {
    /// What buyers see.
    pub name: String,
    /// Where new-order notices go.
    pub staff_email: Option<String>,
    /// The shop's language.
    pub locale: String,
}

/// What the emails need to know of the shop.
pub async fn shop_contact(
    scope: &impl TenantScoped,
    settings: store::SettingsRow,
) -> Result<ShopContact, DbErr> {
    let shop = store::shop(scope.conn(), scope.tenant()).await?;
    Ok(match shop {
        Some(shop) => ShopContact {
            name: if shop.name.is_empty() {
                shop.slug
            } else {
                shop.name
            },
            staff_email: settings
                .notify_email
                .or(shop.contact_email)
                .or(shop.owner_email),
            locale: shop.default_locale,
        },
        None => ShopContact {
            name: "Caravan".into(),
            staff_email: settings.notify_email,
            locale: "zh-CN".into(),
        },
    })
}

/// Records a successful payment of the whole order and marks it paid.
pub async fn pay(
    scope: &impl TenantScoped,
    order: &Locked,
    provider: &str,
    reference: Option<String>,
    actor: &str,
) -> Result<(), ApiError> {
    let row = &order.row;
    let transition = advance(row, Action::Pay)?;
    let amount = row.total - row.paid;
    store::insert_payment(
        scope,
        row.id,
        &NewPayment {
            provider,
            kind: "payment",
            status: "succeeded",
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

/// Records a payment attempt that did not take money (declined, or waiting for a
/// transfer or for a gateway that timed out), with the attempt's reference if it
/// has one.
pub async fn payment_attempt(
    scope: &impl TenantScoped,
    row: &OrderRow,
    provider: &str,
    status: &str,
    detail: &str,
    reference: Option<&str>,
    actor: &str,
) -> Result<(), ApiError> {
    store::insert_payment(
        scope,
        row.id,
        &NewPayment {
            provider,
            kind: "payment",
            status,
            amount: row.total,
            reference: reference.map(str::to_owned),
            detail: Some(detail.to_owned()),
            actor,
        },
    )
    .await?;
    if status == "pending" {
        store::add_money(scope, row.id, 0, 0, Some(provider)).await?;
    }
    let action = match status {
        "pending" => "payment_pending",
        "declined" => "payment_declined",
        _ => "payment_failed",
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

fn provider_failed(error: &PaymentError) -> ApiError {
    match error {
        PaymentError::Timeout => {
            ApiError::unavailable("the payment provider did not answer in time; try again")
        }
        other => ApiError::unavailable(format!("the payment provider refused: {other}")),
    }
}

/// Returns `amount` of what was paid through the provider that took it.
async fn give_back(
    scope: &impl TenantScoped,
    row: &OrderRow,
    provider: &dyn PaymentProvider,
    amount: Money,
    actor: &str,
) -> Result<(), ApiError> {
    let reference = store::payments(scope, row.id)
        .await?
        .into_iter()
        .rev()
        .find(|p| p.kind == "payment" && p.status == "succeeded")
        .and_then(|p| p.reference)
        .unwrap_or_default();
    let refund_reference = provider
        .refund(&reference, amount)
        .await
        .map_err(|error| provider_failed(&error))?;
    store::insert_payment(
        scope,
        row.id,
        &NewPayment {
            provider: provider.name(),
            kind: "refund",
            status: "succeeded",
            amount: amount.amount,
            reference: Some(refund_reference),
            detail: None,
            actor,
        },
    )
    .await?;
    store::add_money(scope, row.id, 0, amount.amount, None).await?;
    Ok(())
}

/// Cancels an order: an unpaid one releases its stock; a paid one is refunded in
/// full and its units go back on hand.
pub async fn cancel(
    scope: &impl TenantScoped,
    order: &Locked,
    provider: Option<&dyn PaymentProvider>,
    reason: &str,
    actor: &str,
) -> Result<OrderView, ApiError> {
    let row = &order.row;
    let transition = advance(row, Action::Cancel)?;
    let outstanding = money(row.paid - row.refunded, row.currency);
    let refund = if outstanding.amount > 0 {
        let provider = provider.ok_or_else(|| {
            ApiError::unavailable("the provider that took the payment is not offered any more")
        })?;
        give_back(scope, row, provider, outstanding, actor).await?;
        Some(outstanding)
    } else {
        None
    };
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
    events::publish(
        scope,
        "order.cancelled",
        &after,
        &order.lines,
        json!({"reason": reason, "restock": row.paid > 0, "refund": refund}),
    )
    .await?;
    let shop = shop_contact(scope, store::settings(scope).await?).await?;
    mail::enqueue(scope.conn(), &emails::cancelled(&view, &shop.name, refund)).await?;
    Ok(view)
}

/// Returns part or all of what was paid; never more than is left.
pub async fn refund(
    scope: &impl TenantScoped,
    order: &Locked,
    provider: &dyn PaymentProvider,
    amount: Option<Money>,
    reason: Option<&str>,
    actor: &str,
) -> Result<OrderView, ApiError> {
    let row = &order.row;
    let left = row.paid - row.refunded;
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
    let full = row.refunded + amount.amount >= row.paid;
    let transition = advance(row, Action::Refund { full })?;
    if amount.amount > left {
        return Err(ApiError::invalid_field(
            "amount.amount",
            format!(
                "at most {} can be refunded (paid {}, refunded {})",
                money(left, row.currency).format(),
                money(row.paid, row.currency).format(),
                money(row.refunded, row.currency).format()
            ),
        ));
    }
    give_back(scope, row, provider, amount, actor).await?;
    store::set_status(scope, row.id, transition).await?;
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

/// Units to ship from one line.
#[derive(Debug, Clone, Copy)]
pub struct Shipment {
    /// The line.
    pub line_id: Uuid,
    /// How many.
    pub quantity: i32,
}

/// Records a shipment of `wanted` units (`None`: every unit left to ship). An order
/// whose status ships nothing, or with nothing left to ship, answers 409 before the
/// lines are looked at; lines that are not the order's or more units than are left
/// answer 422. Either way nothing is written.
pub async fn fulfil(
    scope: &impl TenantScoped,
    order: &Locked,
    carrier: &str,
    tracking_number: &str,
    wanted: Option<&[Shipment]>,
    actor: &str,
) -> Result<OrderView, ApiError> {
    let row = &order.row;
    row.status
        .allows(Action::Fulfil(Shipping::Part))
        .map_err(illegal)?;
    let mut left: HashMap<Uuid, i32> = order
        .lines
        .iter()
        .map(|line| (line.id, line.quantity - line.fulfilled_quantity))
        .collect();
    if left.values().all(|remaining| *remaining <= 0) {
        // Shipped in full already (a partially refunded order can be).
        row.status
            .allows(Action::Fulfil(Shipping::Nothing))
            .map_err(illegal)?;
    }
    let shipments = shipments(order, wanted)?;
    for shipment in &shipments {
        if let Some(remaining) = left.get_mut(&shipment.line_id) {
            *remaining -= shipment.quantity;
        }
    }
    let shipping = if shipments.iter().all(|s| s.quantity <= 0) {
        Shipping::Nothing
    } else if left.values().all(|remaining| *remaining <= 0) {
        Shipping::Rest
    } else {
        Shipping::Part
    };
    let complete = shipping == Shipping::Rest;
    let transition = advance(row, Action::Fulfil(shipping))?;
    for shipment in &shipments {
        store::fulfil_line(scope, shipment.line_id, shipment.quantity).await?;
    }
    let lines_json = json!(
        shipments
            .iter()
            .map(|s| json!({"line_id": s.line_id, "quantity": s.quantity}))
            .collect::<Vec<_>>()
    );
    let fulfillment =
        store::insert_fulfillment(scope, row.id, carrier, tracking_number, &lines_json, actor)
            .await?;
    store::set_status(scope, row.id, transition).await?;
    store::note(
        scope,
        row.id,
        actor,
        "fulfilled",
        json!({"fulfillment_id": fulfillment, "carrier": carrier, "tracking_number": tracking_number, "lines": lines_json, "complete": complete}),
    )
    .await?;
    let (after, view) = current(scope, row.id).await?;
    let lines = store::order_lines(scope, row.id).await?;
    events::publish(
        scope,
        "order.fulfilled",
        &after,
        &lines,
        json!({"fulfillment_id": fulfillment, "carrier": carrier, "tracking_number": tracking_number, "complete": complete}),
    )
    .await?;
    let shop = shop_contact(scope, store::settings(scope).await?).await?;
    mail::enqueue(
        scope.conn(),
        &emails::shipped(&view, &shop.name, carrier, tracking_number),
    )
    .await?;
    Ok(view)
}

/// Marks a shipped order delivered.
pub async fn deliver(
    scope: &impl TenantScoped,
    order: &Locked,
    actor: &str,
) -> Result<OrderView, ApiError> {
    let transition = advance(&order.row, Action::Deliver)?;
    store::set_status(scope, order.row.id, transition).await?;
    store::note(scope, order.row.id, actor, "delivered", json!({})).await?;
    let (after, view) = current(scope, order.row.id).await?;
    events::publish(scope, "order.delivered", &after, &order.lines, json!({})).await?;
    Ok(view)
}

/// The units of each line to ship: `wanted`, checked against what is left of each
/// line, or everything left when `None`.
fn shipments(order: &Locked, wanted: Option<&[Shipment]>) -> Result<Vec<Shipment>, ApiError> {
    let left = |line_id: Uuid| {
        order
            .lines
            .iter()
            .find(|line| line.id == line_id)
            .map(|line| line.quantity - line.fulfilled_quantity)
    };
    let Some(wanted) = wanted else {
        return Ok(order
            .lines
            .iter()
            .filter(|line| line.quantity > line.fulfilled_quantity)
            .map(|line| Shipment {
                line_id: line.id,
                quantity: line.quantity - line.fulfilled_quantity,
            })
            .collect());
    };
    if wanted.is_empty() {
        return Err(ApiError::invalid_field(
            "lines",
            "name at least one line, or leave it out to ship everything",
        ));
    }
    let mut errors = Vec::new();
    let mut shipments: Vec<Shipment> = Vec::new();
    for (index, item) in wanted.iter().enumerate() {
        let already = shipments
            .iter()
            .filter(|s| s.line_id == item.line_id)
            .map(|s| s.quantity)
            .sum::<i32>();
        match left(item.line_id) {
            None => errors.push(FieldError::new(
                format!("lines[{index}].line_id"),
                "is not a line of this order",
            )),
            Some(remaining) if item.quantity < 1 || item.quantity > remaining - already => {
                errors.push(FieldError::new(
                    format!("lines[{index}].quantity"),
                    format!(
                        "must be 1 to {}, the units left to ship",
                        (remaining - already).max(0)
                    ),
                ));
            }
            Some(_) => shipments.push(*item),
        }
    }
    if errors.is_empty() {
        Ok(shipments)
    } else {
        Err(ApiError::invalid_fields(errors))
    }
}
