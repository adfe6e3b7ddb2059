//! Shipping an order and marking it delivered.

use super::{Locked, advance, current, illegal, shop_contact};
use crate::domain::{Action, Shipping};
use crate::emails;
use crate::events;
use crate::store;
use crate::views::OrderView;
use caravan_shared::ApiError;
use caravan_shared::FieldError;
use caravan_shared::mail;
use caravan_shared::tenancy::TenantScoped;
use serde_json::json;
use std::collections::HashMap;
use uuid::Uuid;

/// Units to ship from one line.
#[derive(Debug, Clone, Copy)]
pub struct Shipment {
    /// The line.
    pub line_id: Uuid,
    /// How many.
    pub quantity: i32,
}

/// A shipment as staff describe it.
#[derive(Debug, Clone, Copy)]
pub struct Parcel<'a> {
    /// Who carries it.
    pub carrier: &'a str,
    /// The carrier's tracking number.
    pub tracking_number: &'a str,
    /// Which units (`None`: every unit left to ship).
    pub wanted: Option<&'a [Shipment]>,
}

/// Records a shipment of `wanted` units (`None`: every unit left to ship). An order
/// whose status ships nothing, or with nothing left to ship, answers 409 before the
/// lines are looked at; lines that are not the order's or more units than are left
/// answer 422. Either way nothing is written.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order.row.id))]
pub async fn fulfil(
    scope: &impl TenantScoped,
    order: &Locked,
    parcel: &Parcel<'_>,
    actor: &str,
) -> Result<OrderView, ApiError> {
    let Parcel {
        carrier,
        tracking_number,
        wanted,
    } = *parcel;
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
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %order.row.id))]
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
