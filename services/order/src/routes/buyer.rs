//! A buyer's orders: read one (with its access token, or as its customer), list a
//! customer's own, and pay.

use super::{OrderState, header};
use crate::store::{self, OrderFilter, OrderRow};
use crate::views::{OrderList, OrderSummary, OrderView};
use crate::workflow::{self, payment};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError, get, post, web};
use caravan_shared::ApiError;
use caravan_shared::domain::{Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::idempotency::{self, Claim, IdempotencyKey};
use caravan_shared::identity::MaybeSignedIn;
use caravan_shared::secrets;
use caravan_shared::tenancy::TenantTx;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use utoipa::openapi::schema::{
    AdditionalProperties, ObjectBuilder, OneOfBuilder, SchemaType, Type,
};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

/// The header carrying an order's access token.
pub const ORDER_TOKEN: &str = "X-Order-Token";

/// Whether the caller may see the order: its token, or its customer's account.
/// `customer` is the logged-in buyer, looked up before any transaction is opened;
/// a bearer token that does not verify matters only without the order's token.
fn may_see(
    request: &HttpRequest,
    customer: Result<MaybeSignedIn, ApiError>,
    order: &OrderRow,
) -> Result<bool, ApiError> {
    // The order's own token, or the one its balance-payment email carries.
    let token = header(request, ORDER_TOKEN);
    if token.is_some_and(|t| {
        secrets::matches(t, &order.access_token_hash)
            || order
                .balance_token_hash
                .as_deref()
                .is_some_and(|hash| secrets::matches(t, hash))
    }) {
        return Ok(true);
    }
    Ok(match (customer?.0, &order.customer_id) {
        (Some(principal), Some(owner)) => &principal.subject == owner,
        _ => false,
    })
}

/// One order, for its buyer.
#[utoipa::path(
    tag = "buyer orders",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        ("id" = Uuid, Path, description = "The order"),
        ("X-Order-Token" = Option<String>, Header, description = "The order's access token (guests)"),
    ),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 404, description = "No such shop or order, or not yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops/{shop}/orders/{id}")]
pub async fn show(
    state: web::Data<OrderState>,
    request: HttpRequest,
    path: web::Path<(String, Uuid)>,
    customer: Result<MaybeSignedIn, ApiError>,
) -> Result<web::Json<OrderView>, ApiError> {
    let (slug, id) = path.into_inner();
    let shop = state.storefront(&slug).await?;
    let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
    let row = store::order(&tx, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    if !may_see(&request, customer, &row)? {
        return Err(ApiError::not_found("no such order"));
    }
    let view = workflow::view(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// A logged-in customer's orders in this shop, newest first.
#[utoipa::path(
    tag = "buyer orders",
    security(("bearer" = [])),
    params(("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"), PageQuery),
    responses(
        (status = 200, description = "The customer's orders", body = OrderList),
        (status = 401, description = "Not logged in", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops/{shop}/orders")]
pub async fn list(
    state: web::Data<OrderState>,
    shop: web::Path<String>,
    page: web::Query<PageQuery>,
    MaybeSignedIn(customer): MaybeSignedIn,
) -> Result<web::Json<OrderList>, ApiError> {
    let shop = state.storefront(&shop).await?;
    let customer = customer.ok_or_else(|| ApiError::unauthorized("log in to see your orders"))?;
    let page = PageRequest::from_query(page.into_inner())?;
    let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
    let rows = store::list_orders(
        &tx,
        &OrderFilter {
            customer: Some(customer.subject),
            before: page.after::<(DateTime<Utc>, Uuid)>()?,
            limit: page.fetch_limit(),
            ..OrderFilter::default()
        },
    )
    .await?;
    tx.commit().await?;
    let page = Page::from_rows(rows, page.limit(), |row| (row.created_at, row.id));
    Ok(web::Json(OrderList {
        next_cursor: page.next_cursor,
        items: page.items.iter().map(OrderSummary::from).collect(),
    }))
}

/// A payment.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    /// `test` (card gateway for automation) or `manual` (bank transfer or cash on
    /// delivery: the shop confirms the money).
    pub provider: String,
    /// The card, for `test`.
    #[serde(default)]
    pub card_number: Option<String>,
}

/// One schema per provider, since whether `card_number` is required depends on it.
impl PartialSchema for PaymentRequest {
    fn schema() -> RefOr<Schema> {
        let provider = |name: &str, description: &str| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some([name]))
                .description(Some(description))
        };
        let manual = ObjectBuilder::new()
            .title(Some("manual"))
            .property(
                "provider",
                provider(
                    "manual",
                    "Bank transfer or cash on delivery: the shop confirms the money.",
                ),
            )
            .required("provider")
            .property(
                "card_number",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                    .description(Some("Not used.")),
            )
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let card = ObjectBuilder::new()
            .title(Some("test"))
            .property(
                "provider",
                provider("test", "The card gateway for automation."),
            )
            .required("provider")
            .property(
                "card_number",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .min_length(Some(1))
                    .description(Some(
                        "The card; the test cards decide whether it is paid, declined or times out.",
                    )),
            )
            .required("card_number")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        OneOfBuilder::new()
            .description(Some(
                "A payment: `test` (card gateway for automation, where the deployment offers it) \
                 with a `card_number`, or `manual` (bank transfer or cash on delivery: the shop \
                 confirms the money).",
            ))
            .item(manual)
            .item(card)
            .examples([json!({"provider": "test", "card_number": "4242424242424242"})])
            .into()
    }
}

impl ToSchema for PaymentRequest {}

/// Pays for an order. `test` (when the deployment offers it) answers at once: paid
/// (200), declined (402, the order stays `pending_payment`) or timed out (504: the
/// attempt stays pending under its reference, shown in the order's `payments`; the
/// order is paid if the gateway later confirms it in a signed notification, and
/// paying again with another card voids it). `manual` answers 202 with the shop's
/// payment instructions; staff mark the order paid when the money arrives. One
/// payment of an order is asked of its gateway at a time: another meanwhile answers
/// 409. Money a gateway takes after the order was paid otherwise, cancelled or
/// expired is given back, and the payment answers 409.
///
/// Send an `Idempotency-Key` to retry safely: a retry of the same payment of the
/// same order with the same key answers the first result (paid, waiting, or
/// declined) and asks no gateway again; while the first is still being asked, the
/// retry answers 409 `idempotency_key_in_use`. An attempt that ended without an
/// answer (a gateway timeout, or a refusal before the gateway was asked) keeps
/// nothing for the key, so a retry with it asks again.
#[utoipa::path(
    tag = "buyer orders",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        ("id" = Uuid, Path, description = "The order"),
        ("X-Order-Token" = Option<String>, Header, description = "The order's access token (guests)"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; a retry of the same payment with the same key answers the first result", pattern = r"^[\x21-\x7E]{1,255}$"),
    ),
    request_body = PaymentRequest,
    responses(
        (status = 200, description = "Paid", body = OrderView),
        (status = 202, description = "Waiting for a manual payment (see `payments[].detail`)", body = OrderView),
        (status = 402, description = "Declined; the order still waits for payment", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such shop or order, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The order is not waiting for payment (the current `status` is named; `order_expired` when it expired), another payment of it is in progress, or the first request with this `Idempotency-Key` is still being processed", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A provider this deployment does not offer, a missing card, or an `Idempotency-Key` that is not 1 to 255 visible ASCII characters or was used for another payment", body = Problem, content_type = "application/problem+json"),
        (status = 504, description = "The gateway did not answer; the attempt is pending under the reference named in `detail` and in the order's `payments`, and the order is paid only if the gateway confirms it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/shops/{shop}/orders/{id}/payments")]
pub async fn pay(
    state: web::Data<OrderState>,
    request: HttpRequest,
    path: web::Path<(String, Uuid)>,
    body: Json<PaymentRequest>,
    customer: Result<MaybeSignedIn, ApiError>,
) -> Result<HttpResponse, ApiError> {
    let (slug, id) = path.into_inner();
    let body = body.into_inner();
    let shop = state.storefront(&slug).await?;
    let provider = state.providers.get(body.provider.trim()).ok_or_else(|| {
        ApiError::invalid_field(
            "provider",
            format!(
                "{:?} is not offered here; must be one of: {}",
                body.provider.trim(),
                state.providers.names().join(", ")
            ),
        )
    })?;
    if provider.name() == "test" && body.card_number.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::invalid_field(
            "card_number",
            "is required for card payments",
        ));
    }
    let key = IdempotencyKey::optional(&request)?;
    // Any holder of the order's token or account pays for the same order: the key
    // space is the order's. The card is named by its last digits only, so no card
    // number is kept even hashed.
    let scope = format!("payment:{}:{id}", shop.tenant);
    let fingerprint = idempotency::fingerprint(&json!({
        "provider": provider.name(),
        "card": body.card_number.as_deref().map(last_digits),
    }));
    // The attempt, in a short transaction of its own with the order locked.
    let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
    let order = workflow::lock(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    if !may_see(&request, customer, &order.row)? {
        return Err(ApiError::not_found("no such order"));
    }
    if let Some(key) = &key
        && let Claim::Replay { status, body } =
            idempotency::claim(tx.conn(), &scope, key, &fingerprint).await?
    {
        tx.rollback().await?;
        return Ok(idempotency::replay(status, &body));
    }
    let answered = async {
        let attempt = payment::start(tx, &order, provider.as_ref(), body.card_number).await?;
        // The provider, with no transaction open and no connection held.
        let answer = payment::ask(provider.as_ref(), &attempt).await;
        // Its answer, against the order as it now stands.
        payment::finish(
            &state.context.db,
            shop.tenant,
            provider.as_ref(),
            &attempt,
            answer,
        )
        .await
    }
    .await;
    let (status, answer) = match &answered {
        Ok(payment::Outcome::Paid(view)) => (StatusCode::OK, serde_json::to_value(view)),
        Ok(payment::Outcome::Waiting(view)) => (StatusCode::ACCEPTED, serde_json::to_value(view)),
        Err(error) => (error.status_code(), serde_json::to_value(error.problem())),
    };
    if let Some(key) = &key {
        // Kept for the key: what the gateway decided. Anything else (a timeout,
        // a refusal before the gateway was asked) is asked again on a retry.
        let decided = answered.is_ok() || status == StatusCode::PAYMENT_REQUIRED;
        let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
        match answer {
            Ok(answer) if decided => {
                idempotency::save(tx.conn(), &scope, key, status.as_u16(), &answer).await?;
            }
            _ => store::release_idempotency_key(tx.conn(), &scope, key.as_str()).await?,
        }
        tx.commit().await?;
    }
    Ok(match answered? {
        payment::Outcome::Paid(view) => HttpResponse::Ok().json(view),
        payment::Outcome::Waiting(view) => HttpResponse::Accepted().json(view),
    })
}

/// The last four digits of a card number, which name it to its holder.
fn last_digits(card: &str) -> String {
    let digits: Vec<char> = card.chars().filter(char::is_ascii_digit).collect();
    digits[digits.len().saturating_sub(4)..].iter().collect()
}
