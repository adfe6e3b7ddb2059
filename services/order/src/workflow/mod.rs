//! How an order is placed ([`checkout`]: quota, reservation, pricing, number,
//! order, event and emails) and what happens to it after: payment, fulfilment,
//! delivery, cancellation, expiry and refunds. Each later step runs in the
//! caller's tenant transaction with the order's row locked, moves the status only
//! through the state machine (a status is written only from a [`Transition`] it
//! allowed), and writes the payment records, the timeline entry, the event and the
//! emails in that same transaction. A buyer's payment and a refund ask their
//! provider between two such transactions, with none open ([`payment`],
//! [`refund`]).

pub mod checkout;
pub mod group;
pub mod payment;
pub mod preorder;
pub mod refund;

mod fulfilment;

pub use fulfilment::{Parcel, Shipment, deliver, fulfil};
pub use payment::{Unpaid, expire, pay, payment_attempt};

use crate::domain::{Action, AuthorisationStatus, IllegalTransition, Settled, Transition};
use crate::store::{self, OrderLineRow, OrderRow};
use crate::views::OrderView;
use caravan_shared::ApiError;
use caravan_shared::ErrorCode;
use caravan_shared::tenancy::TenantScoped;
use caravan_shared::tenant_status::{self, ShopState};
use sea_orm::DbErr;
use uuid::Uuid;

/// The 409 for a move the status does not allow; names the current status.
#[tracing::instrument(skip_all, fields(from = error.from.as_str()))]
pub fn illegal(error: IllegalTransition) -> ApiError {
    ApiError::conflict(ErrorCode::InvalidStatusChange, error.to_string())
        .with_field("status", error.from.as_str())
}

/// Moves the order by `action` through the state machine, or answers why not (409).
fn advance(row: &OrderRow, action: Action) -> Result<Transition, ApiError> {
    row.status.apply(action).map_err(illegal)
}

/// The 409 for a notification about an authorisation that is already settled.
#[tracing::instrument(skip_all, fields(status = error.status.as_str()))]
pub fn settled(error: Settled) -> ApiError {
    ApiError::conflict(
        ErrorCode::AuthorisationSettled,
        format!("{error}; nothing was changed"),
    )
    .with_field("authorisation_status", error.status.as_str())
}

/// Settles an open authorisation as `outcome`, once: of two settlements racing,
/// the second is refused.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), authorisation = %authorisation, current = current.as_str(), outcome = outcome.as_str()))]
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
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %id))]
pub async fn lock(scope: &impl TenantScoped, id: Uuid) -> Result<Option<Locked>, DbErr> {
    let Some(row) = store::order(scope, id, true).await? else {
        return Ok(None);
    };
    let lines = store::order_lines(scope, id).await?;
    Ok(Some(Locked { row, lines }))
}

/// An order as it now stands: its row and lines (for events) and its full view.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %id))]
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
    let mut view = OrderView::new(row.clone(), &lines, payments, fulfillments);
    if let Some(group) = row.group_id {
        view.group = group::order_group(scope, group).await?;
    }
    if let Some(campaign) = row.preorder_campaign_id {
        view.preorder = store::campaign(scope, campaign, false)
            .await?
            .map(|campaign| crate::views::OrderPreorder::new(&row, &campaign));
    }
    Ok(Some((row, lines, view)))
}

/// The full view of an order.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), order = %id))]
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

impl ShopContact {
    /// The contact of `shop` as the replica knows it; `settings` may name another
    /// address for order notices.
    pub fn of(shop: Option<ShopState>, settings: store::SettingsRow) -> Self {
        match shop {
            Some(shop) => Self {
                name: shop.profile.display_name(&shop.slug).to_owned(),
                staff_email: settings
                    .notify_email
                    .or(shop.profile.contact_email)
                    .or(shop.profile.owner_email),
                locale: shop.profile.default_locale,
            },
            None => Self {
                name: "Caravan".into(),
                staff_email: settings.notify_email,
                locale: "zh-CN".into(),
            },
        }
    }
}

/// What the emails need to know of the scope's shop, read from its replica.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn shop_contact(
    scope: &impl TenantScoped,
    settings: store::SettingsRow,
) -> Result<ShopContact, DbErr> {
    let shop = tenant_status::shop(scope.conn(), scope.tenant()).await?;
    Ok(ShopContact::of(shop, settings))
}
