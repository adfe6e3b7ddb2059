//! Checkout: a cart becomes an order.
//!
//! The steps, and why in this order:
//! 1. The caller's right to the cart (its token, or its customer's account) is
//!    checked and the cart locked before anything else: a stored answer holds the
//!    order's access token, so it is only ever replayed to whoever may use the cart.
//!    A retry waits on the cart's lock for the first attempt. (The handler does
//!    this, and claims the `Idempotency-Key` in the order's transaction, in a key
//!    space of this cart and this caller: a retry answers what the first attempt
//!    answered; anyone else's key is another key.)
//! 2. [`checkout`]: the cart, the address, the shipping rate and fresh prices from
//!    the catalog give the order's price snapshot.
//! 3. A line whose variant was found sold out a moment ago ([`crate::sold_out`]:
//!    [`known_sold_out`], asked by the handler before the key is claimed) or that
//!    the catalog's answer already shows short (its committed stock is below the
//!    quantity) ends the checkout with 409 there: nothing is reserved, no hot row
//!    is locked and nothing is written, so the losers of a flash sale hear "sold
//!    out" without queueing behind its winners. A refusal for lack of stock is not
//!    kept for the key: a retry asks again. Otherwise a deadline for the order is
//!    recorded on its own, then the catalog reserves every line or none. A crash
//!    after this point still has the stock released when the deadline passes.
//! 4. The order, its lines, the timeline, `order.created`, the emails and the
//!    idempotent answer are written under a provisional number (negative, random,
//!    never shown), the order and lines with `RETURNING` rather than read back.
//! 5. Only now is the shop's order number taken, in one statement that also writes
//!    it wherever the provisional one stands: the counter row stays locked from
//!    there until commit (the monthly quota is counted under it), so concurrent
//!    checkouts get consecutive numbers while holding it for two round trips, and a
//!    rollback gives the number back. Everything commits together.

use super::ShopContact;
use super::group::{self, GroupAsk, Offer};
use super::preorder;
use crate::catalog::{Catalog, Reserved, Sellable, ShortLine, line_problem};
use crate::domain::Address;
use crate::domain::shipping::{self, ShippingOption};
use crate::sold_out::SoldOut;
use crate::store::{self, CartLineRow, CartRow, NewLine, NewOrder, SettingsRow};
use crate::views::{ChosenRate, OrderView, localize};
use crate::{emails, events};
use caravan_shared::domain::{Currency, Money, MoneyError};
use caravan_shared::error::FieldError;
use caravan_shared::idempotency::{self, IdempotencyKey};
use caravan_shared::mail;
use caravan_shared::secrets;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::tenant_status::ShopState;
use caravan_shared::{ApiError, ErrorCode, TenantId};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseConnection;
use std::collections::HashMap;
use uuid::Uuid;

/// What checkout reaches beyond the order's transaction.
pub struct Context<'a> {
    /// Prices and stock.
    pub catalog: &'a Catalog,
    /// The pool order deadlines are written on, beside the order's transaction.
    pub deadlines: &'a DatabaseConnection,
    /// Variants found sold out a moment ago.
    pub sold_out: &'a SoldOut,
    /// Where the buyer's order page is.
    pub public_url: &'a str,
}

/// Who is buying and where it goes, as parsed from the request.
pub struct Buyer {
    /// Where the confirmation goes.
    pub email: String,
    /// For the courier.
    pub phone: String,
    /// Where it goes.
    pub address: Address,
    /// For the shop.
    pub note: Option<String>,
    /// The logged-in customer, if any.
    pub customer: Option<String>,
}

/// An `Idempotency-Key` claimed in the order's transaction, whose answer is saved
/// with the order (or with the refusal that is final).
pub struct Claimed {
    /// The key space: this shop, this cart, this caller.
    pub scope: String,
    /// The key.
    pub key: IdempotencyKey,
}

/// A checkout to make.
pub struct Checkout<'a> {
    /// The shop.
    pub shop: &'a ShopState,
    /// The cart, locked in the order's transaction.
    pub cart: CartRow,
    /// Its lines, read under that lock.
    pub lines: Vec<CartLineRow>,
    /// The buyer.
    pub buyer: Buyer,
    /// One of the cart's shipping options for the address.
    pub rate_id: Uuid,
    /// The claimed key.
    pub claimed: Claimed,
    /// A group to open or join, for a checkout at a deal's group price.
    pub group: Option<GroupAsk>,
    /// The harvest campaign, for a pre-order.
    pub preorder: Option<Uuid>,
}

/// The 403 for a shop whose plan's monthly orders are used up.
fn quota_exceeded(max: i32) -> ApiError {
    ApiError::forbidden_because(
        ErrorCode::QuotaExceeded,
        format!("this shop's plan allows {max} orders a month; it has taken them all"),
    )
}

/// The shop's orders this month are within its plan: before this checkout writes
/// its order there must be room for one more; after (`written`), this one counted,
/// the month must not be over the plan.
async fn within_quota(tx: &TenantTx, shop: &ShopState, written: bool) -> Result<(), ApiError> {
    let Some(max) = shop.quotas.max_orders_per_month else {
        return Ok(());
    };
    let placed = store::orders_this_month(tx).await?;
    let allowed = i64::from(max) - if written { 0 } else { 1 };
    if placed > allowed {
        return Err(quota_exceeded(max));
    }
    Ok(())
}

/// A provisional order number: negative, so never a real one, and random over
/// 9·10^15 values, so that its decimal text occurs nowhere else in what the
/// checkout writes (the number replaces it there by text).
fn provisional_number() -> i64 {
    -rand::random_range(1_000_000_000_000_000..10_000_000_000_000_000)
}

/// The answer with the order's number in place of the provisional one.
fn numbered(
    answer: serde_json::Value,
    provisional: i64,
    number: i64,
) -> Result<serde_json::Value, ApiError> {
    let text = answer
        .to_string()
        .replace(&provisional.to_string(), &number.to_string());
    Ok(serde_json::from_str(&text).map_err(anyhow::Error::from)?)
}

fn money_error(error: MoneyError) -> ApiError {
    ApiError::validation(error.to_string())
}

/// Turns the locked cart of `checkout` into an order in `tx`, and commits it with the
/// key's answer: the order's view (with its access token), as saved for the key.
/// The stock is reserved before the order is written and released again if it is
/// not.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), cart = %checkout.cart.id))]
pub async fn checkout(
    tx: TenantTx,
    context: &Context<'_>,
    checkout: Checkout<'_>,
) -> Result<serde_json::Value, ApiError> {
    let tenant = tx.tenant();
    if let Some(placed) = checkout.cart.order_id {
        return Err(ApiError::conflict(
            ErrorCode::CartCheckedOut,
            format!("this cart already became order {placed}"),
        ));
    }
    let cart_lines = &checkout.lines;
    if cart_lines.is_empty() {
        return Err(ApiError::invalid_field("cart_id", "the cart is empty"));
    }
    within_quota(&tx, checkout.shop, false).await?;
    let currency = checkout.cart.currency.0;
    let offer = match checkout.group {
        Some(ask) => Some(group::offer(&tx, ask, cart_lines, currency).await?),
        None => None,
    };
    let harvest = match checkout.preorder {
        Some(campaign) => Some(preorder::offer(&tx, campaign, cart_lines, currency).await?),
        None => None,
    };
    let ids: Vec<Uuid> = cart_lines.iter().map(|l| l.variant_id).collect();
    let variants = context.catalog.variants(tenant, &ids, true).await?;
    let priced = price(
        cart_lines,
        &variants,
        currency,
        &checkout.cart.locale,
        offer.as_ref(),
    )?;
    // A pre-order holds no stock: the harvest's allocation is counted instead.
    let short = if harvest.is_some() {
        Vec::new()
    } else {
        short_already(cart_lines, &variants)
    };
    if !short.is_empty() {
        let gone: Vec<Uuid> = ids
            .iter()
            .filter(|id| variants.get(id).and_then(|v| v.available) == Some(0))
            .copied()
            .collect();
        context.sold_out.mark(tenant, &gone).await;
        return Err(sold_out(tx, short).await?);
    }
    let zones = store::zones(&tx).await?;
    let rate = choose_rate(&zones, &checkout.buyer.address, &priced, checkout.rate_id)?;
    let total = priced
        .subtotal
        .checked_add(rate.price)
        .map_err(money_error)?;
    let settings = store::settings(&tx).await?;
    let draft = Draft {
        offer,
        harvest,
        id: Uuid::now_v7(),
        expires_at: Utc::now()
            + chrono::Duration::minutes(i64::from(settings.payment_window_minutes)),
        priced,
        rate,
        total,
        settings,
    };
    let id = draft.id;

    // The deadline first, on its own: it outlives this transaction whatever happens.
    store::set_deadline(context.deadlines, tenant, id, draft.expires_at).await?;
    let lines: Vec<(Uuid, i32)> = draft
        .priced
        .lines
        .iter()
        .map(|l| (l.variant_id, l.quantity))
        .collect();
    let reserved = if draft.harvest.is_some() {
        Ok(Reserved::Held)
    } else {
        context.catalog.reserve(tenant, id, &lines).await
    };
    match reserved {
        Ok(Reserved::Held) => {}
        Ok(Reserved::Short(short)) => {
            store::forget_deadline(context.deadlines, tenant, id).await?;
            return Err(sold_out(tx, short).await?);
        }
        Err(error) => {
            // The reservation may or may not have been made: release it now if we
            // can; the deadline releases it otherwise.
            if context.catalog.release(tenant, id).await.is_ok() {
                store::forget_deadline(context.deadlines, tenant, id).await?;
            }
            return Err(error.into());
        }
    }

    let committed: Result<(serde_json::Value, i64, i64), ApiError> = async {
        let placed = place(&tx, context, &checkout, draft).await?;
        let answer = serde_json::to_value(&placed.view).map_err(anyhow::Error::from)?;
        let claimed = &checkout.claimed;
        idempotency::save(tx.conn(), &claimed.scope, &claimed.key, 201, &answer).await?;
        // Last: the number, then the quota under the counter's lock, then commit.
        let provisional = store::Provisional {
            order: id,
            number: placed.provisional,
            event: placed.event,
            mails: placed.mails,
            answer: (&claimed.scope, claimed.key.as_str()),
        };
        let number = store::number_order(&tx, &provisional).await?;
        // Exact under the counter's lock: concurrent checkouts count one at a time
        // (a statement of its own, so that it sees the order the last holder
        // committed; this order is counted too).
        within_quota(&tx, checkout.shop, true).await?;
        tx.commit().await?;
        Ok((answer, placed.provisional, number))
    }
    .await;
    match committed {
        // The order stands from here on, whatever happens to this answer (a retry
        // with the key is answered from what was saved, numbered).
        Ok((answer, provisional, number)) => numbered(answer, provisional, number),
        Err(error) => {
            // Nothing was written: give the stock back straight away.
            if context.catalog.release(tenant, id).await.is_ok() {
                store::forget_deadline(context.deadlines, tenant, id)
                    .await
                    .ok();
            }
            Err(error)
        }
    }
}

/// The lines whose quantity is above the stock the catalog's answer shows: short
/// already, whatever happens in flight (a reservation could only take more).
fn short_already(cart_lines: &[CartLineRow], variants: &HashMap<Uuid, Sellable>) -> Vec<ShortLine> {
    cart_lines
        .iter()
        .enumerate()
        .filter_map(|(index, line)| {
            let available = variants.get(&line.variant_id)?.available?;
            (available < line.quantity).then(|| short_line(index, line, available))
        })
        .collect()
}

/// Line `index` of the cart, short with `available` in stock; worded as the
/// catalog words a refused reservation.
fn short_line(index: usize, line: &CartLineRow, available: i32) -> ShortLine {
    ShortLine {
        field: format!("lines[{index}]"),
        message: format!(
            "{} requested, {} available (variant {})",
            line.quantity,
            available.max(0),
            line.variant_id
        ),
    }
}

/// The 409 for the lines of `cart_lines` that hold a variant found sold out a
/// moment ago ([`crate::sold_out`]), if any: known before the catalog is asked or
/// the key is claimed.
pub async fn known_sold_out(
    sold_out: &SoldOut,
    tenant: TenantId,
    cart_lines: &[CartLineRow],
) -> Option<ApiError> {
    let ids: Vec<Uuid> = cart_lines.iter().map(|l| l.variant_id).collect();
    let marked = sold_out.marked(tenant, &ids).await;
    if marked.is_empty() {
        return None;
    }
    let short = cart_lines
        .iter()
        .enumerate()
        .filter(|(_, line)| marked.contains(&line.variant_id))
        .map(|(index, line)| short_line(index, line, 0))
        .collect();
    Some(short_of_stock(short))
}

/// The 409 for a cart short of stock, naming the short lines.
fn short_of_stock(short: Vec<ShortLine>) -> ApiError {
    let mut error = ApiError::conflict(
        ErrorCode::InsufficientStock,
        format!(
            "{} line(s) of the cart are short of stock; nothing was reserved",
            short.len()
        ),
    );
    for line in short {
        error = error.with_field(line.field, line.message);
    }
    error
}

/// Ends a checkout whose cart is short of stock: nothing was reserved, and nothing
/// is kept, not even the key's claim (a retry with the key asks again); the error
/// to answer.
async fn sold_out(tx: TenantTx, short: Vec<ShortLine>) -> Result<ApiError, ApiError> {
    tx.rollback().await?;
    Ok(short_of_stock(short))
}

/// What the cart comes to, at the catalog's current prices.
struct Priced {
    lines: Vec<NewLine>,
    subtotal: Money,
    weight: i64,
}

/// The order as priced, before it is written.
struct Draft {
    /// The group price, for a group checkout.
    offer: Option<Offer>,
    /// The campaign and deposit, for a pre-order.
    harvest: Option<preorder::Offer>,
    id: Uuid,
    expires_at: DateTime<Utc>,
    priced: Priced,
    rate: ShippingOption,
    total: Money,
    settings: SettingsRow,
}

fn price(
    cart_lines: &[CartLineRow],
    variants: &HashMap<Uuid, Sellable>,
    currency: Currency,
    locale: &str,
    offer: Option<&Offer>,
) -> Result<Priced, ApiError> {
    let mut problems = Vec::new();
    let mut lines = Vec::new();
    let mut subtotal = Money::zero(currency);
    let mut weight = 0i64;
    for (index, line) in cart_lines.iter().enumerate() {
        let sellable = variants.get(&line.variant_id);
        // Stock is the reservation's to judge, atomically; the rest is judged here.
        let problem = line_problem(sellable, line.quantity, currency)
            .filter(|p| *p != "out_of_stock" && *p != "insufficient_stock");
        // A line without a problem has a price in the cart's currency; one without
        // is never priced at zero.
        let priced = sellable.and_then(|s| match offer {
            Some(offer) if offer.variant == s.variant_id => Some((s, group::unit_price(offer, s))),
            _ => Some((s, s.price_in(currency)?)),
        });
        match (priced, problem) {
            (Some((sellable, unit)), None) => {
                let total = unit
                    .checked_mul(i64::from(line.quantity))
                    .map_err(money_error)?;
                subtotal = subtotal.checked_add(total).map_err(money_error)?;
                weight += i64::from(sellable.weight_grams) * i64::from(line.quantity);
                lines.push(NewLine {
                    variant_id: line.variant_id,
                    product_id: sellable.product_id,
                    sku: sellable.sku.clone(),
                    product_title: sellable.product_title.clone(),
                    variant_title: sellable.title.clone(),
                    unit_price: unit.amount,
                    quantity: line.quantity,
                    line_total: total.amount,
                    weight_grams: sellable.weight_grams,
                });
            }
            (_, problem) => {
                let what = sellable
                    .map(|s| format!("{} ({})", localize(&s.product_title, locale), s.sku))
                    .unwrap_or_else(|| format!("variant {}", line.variant_id));
                problems.push(FieldError::new(
                    format!("lines[{index}]"),
                    format!(
                        "{what} is {}",
                        problem.unwrap_or("not_sold_in_currency").replace('_', " ")
                    ),
                ));
            }
        }
    }
    if !problems.is_empty() {
        let mut error = ApiError::conflict(
            ErrorCode::CartNotPurchasable,
            "some lines of the cart cannot be bought; update the cart",
        );
        for problem in problems {
            error = error.with_field(problem.field, problem.message);
        }
        return Err(error);
    }
    Ok(Priced {
        lines,
        subtotal,
        weight,
    })
}

fn choose_rate(
    zones: &[shipping::Zone],
    address: &Address,
    priced: &Priced,
    wanted: Uuid,
) -> Result<ShippingOption, ApiError> {
    if !shipping::ships_to(zones, address) {
        return Err(ApiError::invalid_field(
            "shipping_address.country",
            format!(
                "this shop does not ship to {} {}",
                address.country, address.province
            )
            .trim_end()
            .to_owned(),
        ));
    }
    shipping::options(
        zones,
        (&address.country, &address.province),
        priced.weight,
        priced.subtotal,
    )
    .into_iter()
    .find(|option| option.rate_id == wanted)
    .ok_or_else(|| {
        ApiError::invalid_field(
            "shipping_rate_id",
            "is not a shipping option for this address and cart; read the cart with ?country= for the options",
        )
    })
}

/// The reserved order as written, under its provisional number.
struct Placed {
    /// The order's view, with its access token.
    view: OrderView,
    /// The number it was written with.
    provisional: i64,
    /// Its `order.created` event.
    event: Uuid,
    /// Its emails.
    mails: Vec<Uuid>,
}

/// Writes the reserved order under a provisional number: the cart closed, the
/// order and lines, the timeline, `order.created` and the emails, all in `tx`. The
/// shop's number is taken after ([`store::number_order`]), so that its counter is
/// locked for one statement and the commit instead of all of these.
async fn place(
    tx: &TenantTx,
    context: &Context<'_>,
    checkout: &Checkout<'_>,
    draft: Draft,
) -> Result<Placed, ApiError> {
    let (shop, cart, buyer) = (checkout.shop, &checkout.cart, &checkout.buyer);
    let quantity = draft.priced.lines.iter().map(|l| l.quantity).sum();
    let place = match &draft.offer {
        Some(offer) => Some(group::take_place(tx, offer, quantity).await?),
        None => None,
    };
    if let Some(harvest) = &draft.harvest {
        preorder::take_allocation(tx, harvest, quantity).await?;
    }
    // The deposit of the whole order; none when it would not leave a balance.
    let deposit = draft.harvest.as_ref().and_then(|harvest| {
        let deposit = harvest.deposit?.amount.checked_mul(i64::from(quantity))?;
        (deposit < draft.total.amount).then_some(deposit)
    });
    store::close_cart(tx, cart.id, draft.id).await?;
    let number = provisional_number();
    let token = secrets::generate();
    let order = NewOrder {
        id: draft.id,
        number,
        currency: cart.currency.0,
        locale: cart.locale.clone(),
        email: buyer.email.clone(),
        phone: buyer.phone.clone(),
        customer_id: buyer.customer.clone(),
        cart_id: cart.id,
        shipping_address: serde_json::to_value(&buyer.address).unwrap_or_default(),
        shipping_rate: serde_json::to_value(ChosenRate {
            rate_id: draft.rate.rate_id,
            zone: draft.rate.zone.clone(),
            name: draft.rate.name.clone(),
        })
        .unwrap_or_default(),
        note: buyer.note.clone(),
        subtotal: draft.priced.subtotal.amount,
        shipping: draft.rate.price.amount,
        total: draft.total.amount,
        access_token_hash: secrets::hash(&token),
        expires_at: draft.expires_at,
        group_id: place.as_ref().map(|place| place.group.id),
        preorder: draft
            .harvest
            .as_ref()
            .map(|harvest| (harvest.campaign, deposit)),
        lines: draft.priced.lines,
    };
    let (row, lines) = store::insert_order(tx, &order).await?;
    store::note(
        tx,
        order.id,
        "buyer",
        "placed",
        serde_json::json!({"number": number, "total": draft.total}),
    )
    .await?;
    // A new order has no payments or shipments yet.
    let mut view = OrderView::new(row.clone(), &lines, Vec::new(), Vec::new());
    let event = events::publish(tx, "order.created", &row, &lines, serde_json::json!({})).await?;
    let share = match &place {
        Some(place) => {
            if place.opened {
                group::opened(tx, &place.group, order.id).await?;
            }
            view.group = group::order_group(tx, place.group.id).await?;
            Some(emails::group_page(
                context.public_url,
                &shop.slug,
                &cart.locale,
                place.group.id,
            ))
        }
        None => None,
    };
    if let Some(harvest) = &draft.harvest {
        view.preorder = store::campaign(tx, harvest.campaign, false)
            .await?
            .map(|campaign| crate::views::OrderPreorder::new(&row, &campaign));
    }
    let instructions = draft.settings.bank_transfer_details.clone();
    // The shop was read for this request already (the storefront check).
    let contact = ShopContact::of(Some(shop.clone()), draft.settings);
    let mut mails = vec![
        mail::enqueue(
            tx.conn(),
            &emails::confirmation(
                &view,
                &contact.name,
                instructions.as_deref(),
                &emails::order_page(context.public_url, &shop.slug, &view, &token),
                share.as_deref(),
            ),
        )
        .await?,
    ];
    if let Some(staff) = &contact.staff_email {
        mails.push(
            mail::enqueue(
                tx.conn(),
                &emails::new_order_notice(&view, &contact.name, staff, &contact.locale),
            )
            .await?,
        );
    }
    view.access_token = Some(token);
    Ok(Placed {
        view,
        provisional: number,
        event,
        mails,
    })
}
