//! Checkout: a cart becomes an order.
//!
//! The steps, and why in this order:
//! 1. The caller's right to the cart (its token, or its customer's account) is
//!    checked and the cart locked before anything else: a stored answer holds the
//!    order's access token, so it is only ever replayed to whoever may use the cart.
//!    A retry waits on the cart's lock for the first attempt.
//! 2. The `Idempotency-Key` is claimed in the order's transaction, in a key space of
//!    this cart and this caller (the customer, or the cart token's guest): a retry
//!    answers what the first attempt answered; anyone else's key is another key.
//! 3. The cart, the address, the shipping rate and fresh prices from the catalog
//!    give the order's price snapshot.
//! 4. A deadline for the order is recorded on its own, then the catalog reserves
//!    every line or none. A crash after this point still has the stock released
//!    when the deadline passes.
//! 5. Only now is the shop's order number taken: its counter row stays locked for
//!    the few milliseconds until commit, so concurrent checkouts get consecutive
//!    numbers, and a rollback gives the number back.
//! 6. The order, its lines, the timeline, `order.created`, the emails and the
//!    idempotent answer commit together.

use super::carts::{self, line_problem};
use super::{OrderState, buyer};
use crate::catalog::{Reserved, Sellable};
use crate::domain::shipping::{self, ShippingOption};
use crate::domain::{Address, AddressInput, parse_note, parse_phone};
use crate::store::{self, NewLine, NewOrder};
use crate::views::{ChosenRate, OrderView, localize};
use crate::{emails, events, workflow};
use actix_web::{HttpRequest, HttpResponse, post, web};
use caravan_shared::ApiError;
use caravan_shared::ErrorCode;
use caravan_shared::domain::{Currency, Email, Money};
use caravan_shared::error::{FieldError, Problem};
use caravan_shared::http::Json;
use caravan_shared::idempotency::{self, Claim, IdempotencyKey};
use caravan_shared::mail;
use caravan_shared::secrets;
use caravan_shared::tenancy::TenantTx;
use chrono::Utc;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;
use uuid::Uuid;

/// A checkout.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "cart_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f",
    "email": "wang.fang@example.cn", "phone": "+86 138 0013 8000",
    "shipping_address": {"country": "CN", "province": "上海市", "city": "上海市", "district": "浦东新区", "street": "世纪大道 100 号 2 栋 1801 室", "postal_code": "200120", "recipient": "王芳"},
    "shipping_rate_id": "0193a7c4-6a00-7000-8000-000000000001",
    "note": "请工作日送货"
}))]
pub struct CheckoutRequest {
    /// The cart.
    pub cart_id: Uuid,
    /// Where the confirmation goes.
    #[schema(value_type = caravan_shared::domain::Email)]
    pub email: String,
    /// For the courier: 5 to 20 digits, with spaces or hyphens between them and
    /// an optional leading `+`.
    #[schema(pattern = r"^\+?[ -]*([0-9][ -]*){5,20}$")]
    pub phone: String,
    /// Where it goes.
    pub shipping_address: AddressInput,
    /// One of the cart's shipping options for this address.
    pub shipping_rate_id: Uuid,
    /// For the shop (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub note: Option<String>,
}

struct Checked {
    email: String,
    phone: String,
    address: Address,
    note: Option<String>,
}

fn check(body: &CheckoutRequest) -> Result<Checked, ApiError> {
    let mut errors = Vec::new();
    let email = match Email::parse(&body.email, "email") {
        Ok(email) => Some(email.as_str().to_owned()),
        Err(error) => {
            errors.push(error);
            None
        }
    };
    let phone = parse_phone(&body.phone, "phone", &mut errors);
    let address = Address::parse(&body.shipping_address, "shipping_address", &mut errors);
    let note = parse_note(body.note.as_deref(), "note", 500, &mut errors);
    match (email, phone, address, note) {
        (Some(email), Some(phone), Some(address), Some(note)) if errors.is_empty() => Ok(Checked {
            email,
            phone,
            address,
            note,
        }),
        _ => Err(ApiError::invalid_fields(errors)),
    }
}

fn money_error(error: caravan_shared::domain::MoneyError) -> ApiError {
    ApiError::validation(error.to_string())
}

/// What the cart comes to, at the catalog's current prices.
struct Priced {
    lines: Vec<NewLine>,
    subtotal: Money,
    weight: i64,
}

fn price(
    cart_lines: &[store::CartLineRow],
    variants: &HashMap<Uuid, Sellable>,
    currency: Currency,
    locale: &str,
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
        let priced = sellable.and_then(|s| Some((s, s.price_in(currency)?)));
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

/// Turns a cart into an order: validates the address against the shop's shipping
/// zones, reserves stock for every line (all or nothing), snapshots prices and
/// takes the shop's next order number. The order waits for payment until
/// `expires_at`. Send the same `Idempotency-Key` to retry safely: the same caller
/// (the cart's token, or the same customer) with the same body gets the first
/// answer again; another body with the key answers 422. Keys belong to the caller
/// and the cart: anyone else sending the key gets what they would get without it.
#[utoipa::path(
    tag = "checkout",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        ("Idempotency-Key" = String, Header, description = "Unique per checkout attempt (1 to 255 visible ASCII characters); a retry by the same caller for the same cart with the same key answers the first result", pattern = r"^[\x21-\x7E]{1,255}$"),
        ("X-Cart-Token" = Option<String>, Header, description = "The cart's token (guests)"),
    ),
    request_body = CheckoutRequest,
    responses(
        (status = 201, description = "The order, `pending_payment`, with its `access_token`", body = OrderView),
        (status = 401, description = "A bearer token that does not verify", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "The shop's monthly order quota is used up", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop or cart, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Out of stock (`errors` names the short lines; nothing is reserved), lines no longer on sale, the cart was already checked out, or the key is in use", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, an address outside the shipping zones, an unavailable rate, or the key reused with another body", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog cannot be reached; nothing was ordered", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/shops/{shop}/checkout")]
pub async fn checkout(
    state: web::Data<OrderState>,
    request: HttpRequest,
    shop: web::Path<String>,
    key: IdempotencyKey,
    body: Json<CheckoutRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let shop = state.storefront(&shop).await?;
    let tenant = shop.tenant;
    let checked = check(&body)?;
    let customer = buyer(&request).await?;
    let tx = TenantTx::begin(&state.context.db, tenant).await?;
    // Whoever may not use the cart gets 401/404 here, key or no key.
    let cart = carts::open(&request, &tx, body.cart_id, true).await?;
    let caller = match &customer {
        Some(principal) => format!("customer:{}", principal.subject),
        None => "guest".to_owned(),
    };
    let scope = format!("checkout:{tenant}:{}:{caller}", cart.id);
    match idempotency::claim(tx.conn(), &scope, &key, &idempotency::fingerprint(&body)).await? {
        Claim::Replay { status, body } => {
            tx.rollback().await?;
            return Ok(idempotency::replay(status, &body));
        }
        Claim::Fresh => {}
    }
    if let Some(order) = cart.order_id {
        return Err(ApiError::conflict(
            ErrorCode::CartCheckedOut,
            format!("this cart already became order {order}"),
        ));
    }
    let cart_lines = store::cart_lines(&tx, cart.id).await?;
    if cart_lines.is_empty() {
        return Err(ApiError::invalid_field("cart_id", "the cart is empty"));
    }
    if let Some(max) = shop.quotas.max_orders_per_month
        && store::orders_this_month(&tx).await? >= i64::from(max)
    {
        return Err(quota_exceeded(max));
    }
    let currency = cart.currency.0;
    let ids: Vec<Uuid> = cart_lines.iter().map(|l| l.variant_id).collect();
    let variants = state.catalog.variants(tenant, &ids, true).await?;
    let priced = price(&cart_lines, &variants, currency, &cart.locale)?;
    let zones = store::zones(&tx).await?;
    let rate = choose_rate(
        &zones,
        &checked.address,
        priced.weight,
        priced.subtotal,
        body.shipping_rate_id,
    )?;
    let total = priced
        .subtotal
        .checked_add(rate.price)
        .map_err(money_error)?;
    let settings = store::settings(&tx).await?;
    let order_id = Uuid::now_v7();
    let expires_at =
        Utc::now() + chrono::Duration::minutes(i64::from(settings.payment_window_minutes));

    // The deadline first, on its own: it outlives this transaction whatever happens.
    store::set_deadline(&state.deadlines, tenant, order_id, expires_at).await?;
    let lines: Vec<(Uuid, i32)> = priced
        .lines
        .iter()
        .map(|l| (l.variant_id, l.quantity))
        .collect();
    match state.catalog.reserve(tenant, order_id, &lines).await {
        Ok(Reserved::Held) => {}
        Ok(Reserved::Short(short)) => {
            store::forget_deadline(&state.deadlines, tenant, order_id).await?;
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
            let answer = serde_json::to_value(error.problem()).unwrap_or_default();
            idempotency::save(tx.conn(), &scope, &key, 409, &answer).await?;
            tx.commit().await?;
            return Err(error);
        }
        Err(error) => {
            // The reservation may or may not have been made: release it now if we
            // can; the deadline releases it otherwise.
            if state.catalog.release(tenant, order_id).await.is_ok() {
                store::forget_deadline(&state.deadlines, tenant, order_id).await?;
            }
            return Err(error.into());
        }
    }

    let customer = customer.map(|c| c.subject);
    let outcome: Result<serde_json::Value, ApiError> = async {
        let view = place(
            &tx,
            &shop,
            &cart,
            &checked,
            customer,
            order_id,
            expires_at,
            priced,
            rate,
            total,
            settings,
            &state.context.settings.public_url,
        )
        .await?;
        let answer = serde_json::to_value(&view).map_err(anyhow::Error::from)?;
        idempotency::save(tx.conn(), &scope, &key, 201, &answer).await?;
        tx.commit().await?;
        Ok(answer)
    }
    .await;
    match outcome {
        Ok(answer) => Ok(HttpResponse::Created().json(answer)),
        Err(error) => {
            // Nothing was written: give the stock back straight away.
            if state.catalog.release(tenant, order_id).await.is_ok() {
                store::forget_deadline(&state.deadlines, tenant, order_id)
                    .await
                    .ok();
            }
            Err(error)
        }
    }
}

fn quota_exceeded(max: i32) -> ApiError {
    ApiError::forbidden_because(
        ErrorCode::QuotaExceeded,
        format!("this shop's plan allows {max} orders a month; it has taken them all"),
    )
}

fn choose_rate(
    zones: &[shipping::Zone],
    address: &Address,
    weight: i64,
    subtotal: Money,
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
    shipping::options(zones, (&address.country, &address.province), weight, subtotal)
        .into_iter()
        .find(|option| option.rate_id == wanted)
        .ok_or_else(|| {
            ApiError::invalid_field(
                "shipping_rate_id",
                "is not a shipping option for this address and cart; read the cart with ?country= for the options",
            )
        })
}

#[allow(clippy::too_many_arguments)]
async fn place(
    tx: &TenantTx,
    shop: &caravan_shared::tenant_status::ShopState,
    cart: &store::CartRow,
    checked: &Checked,
    customer: Option<String>,
    order_id: Uuid,
    expires_at: chrono::DateTime<Utc>,
    priced: Priced,
    rate: ShippingOption,
    total: Money,
    settings: store::SettingsRow,
    public_url: &str,
) -> Result<OrderView, ApiError> {
    let number = store::next_number(tx).await?;
    // Exact under the counter's lock: concurrent checkouts count one at a time.
    if let Some(max) = shop.quotas.max_orders_per_month
        && store::orders_this_month(tx).await? >= i64::from(max)
    {
        return Err(quota_exceeded(max));
    }
    let token = secrets::generate();
    let order = NewOrder {
        id: order_id,
        number,
        currency: cart.currency.0,
        locale: cart.locale.clone(),
        email: checked.email.clone(),
        phone: checked.phone.clone(),
        customer_id: customer,
        cart_id: cart.id,
        shipping_address: serde_json::to_value(&checked.address).unwrap_or_default(),
        shipping_rate: serde_json::to_value(ChosenRate {
            rate_id: rate.rate_id,
            zone: rate.zone.clone(),
            name: rate.name.clone(),
        })
        .unwrap_or_default(),
        note: checked.note.clone(),
        subtotal: priced.subtotal.amount,
        shipping: rate.price.amount,
        total: total.amount,
        access_token_hash: secrets::hash(&token),
        expires_at,
        lines: priced.lines,
    };
    store::insert_order(tx, &order).await?;
    store::close_cart(tx, cart.id, order_id).await?;
    store::note(
        tx,
        order_id,
        "buyer",
        "placed",
        serde_json::json!({"number": number, "total": total}),
    )
    .await?;
    let (row, lines, mut view) = workflow::load(tx, order_id)
        .await?
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("the new order vanished")))?;
    events::publish(tx, "order.created", &row, &lines, serde_json::json!({})).await?;
    let instructions = settings.bank_transfer_details.clone();
    let contact = workflow::shop_contact(tx, settings).await?;
    let instructions = instructions.as_deref();
    mail::enqueue(
        tx.conn(),
        &emails::confirmation(
            &view,
            &contact.name,
            instructions,
            &emails::order_page(public_url, &shop.slug, &view, &token),
        ),
    )
    .await?;
    if let Some(staff) = &contact.staff_email {
        mail::enqueue(
            tx.conn(),
            &emails::new_order_notice(&view, &contact.name, staff, &contact.locale),
        )
        .await?;
    }
    view.access_token = Some(token);
    Ok(view)
}
