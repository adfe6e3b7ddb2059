//! Staff order management: list, read, timeline, mark paid, fulfil, deliver,
//! cancel, refund. Owners and staff, or apps with `orders:read` / `orders:write`.

use super::OrderState;
use crate::domain::OrderStatus;
use crate::schemas;
use crate::store::{self, OrderFilter};
use crate::views::{OrderList, OrderSummary, OrderView, TimelineEntry};
use crate::workflow::refund::{Cancelling, Finished};
use crate::workflow::{self, Locked, Parcel, Shipment};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use caravan_shared::ApiError;
use caravan_shared::domain::{Money, Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::idempotency::{self, Claim, IdempotencyKey};
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::{OrdersRead, OrdersWrite};
use caravan_shared::tenancy::TenantTx;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::schema::OneOfBuilder;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// Filters of the order list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only orders in this status.
    #[param(inline, value_type = Option<OrderStatus>)]
    pub status: Option<String>,
    /// Placed at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Placed before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
    /// An order number (`1001` or `#1001`) or part of the buyer's email (at most
    /// 200 characters).
    #[param(max_length = 200, pattern = r"^[^\x00]*$")]
    pub q: Option<String>,
    /// Page size (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The shop's orders, newest first.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = ["orders:read"])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of orders", body = OrderList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/orders")]
pub async fn list(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    query: web::Query<ListQuery>,
) -> Result<web::Json<OrderList>, ApiError> {
    let query = query.into_inner();
    let filter = order_filter(query.status, query.from, query.to, query.q.as_deref())?;
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let rows = store::list_orders(
        &tx,
        &OrderFilter {
            before: page.after::<(DateTime<Utc>, Uuid)>()?,
            limit: page.fetch_limit(),
            ..filter
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

/// The order list's filters, checked: a known status, a search text of at most 200
/// characters (blank: none). Shared with the export, which filters the same way.
pub(super) fn order_filter(
    status: Option<String>,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    q: Option<&str>,
) -> Result<OrderFilter, ApiError> {
    let status = status
        .map(|raw| {
            OrderStatus::parse(&raw).ok_or_else(|| {
                ApiError::invalid_field(
                    "status",
                    format!(
                        "must be one of: {}",
                        OrderStatus::ALL.map(OrderStatus::as_str).join(", ")
                    ),
                )
            })
        })
        .transpose()?;
    let text = q.map(str::trim).filter(|q| !q.is_empty());
    if text.is_some_and(|q| q.chars().count() > 200) {
        return Err(ApiError::invalid_field(
            "q",
            "must be at most 200 characters",
        ));
    }
    Ok(OrderFilter {
        status,
        from,
        to,
        text: text.map(str::to_owned),
        ..OrderFilter::default()
    })
}

/// One order with its lines, payments and shipments.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = ["orders:read"])),
    params(("id" = Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "The order", body = OrderView),
        (status = 403, description = "Not the shop's staff, or no `orders:read`", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such order in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/orders/{id}")]
pub async fn show(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    id: web::Path<Uuid>,
) -> Result<web::Json<OrderView>, ApiError> {
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let view = workflow::view(&tx, id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// Who did what to the order, and when, oldest first.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = ["orders:read"])),
    params(("id" = Uuid, Path, description = "The order"), PageQuery),
    responses(
        (status = 200, description = "A page of the timeline", body = Page<TimelineEntry>),
        (status = 404, description = "No such order in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A limit outside 1 to 100 or a cursor this API did not issue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/orders/{id}/timeline")]
pub async fn timeline(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<TimelineEntry>>, ApiError> {
    let id = id.into_inner();
    let page = PageRequest::from_query(query.into_inner())?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    if store::order(&tx, id, false).await?.is_none() {
        return Err(ApiError::not_found("no such order"));
    }
    let items = store::timeline(&tx, id).await?;
    tx.commit().await?;
    let items = Page::from_sorted(items, &page, |entry| entry.id)?;
    Ok(web::Json(items.map(TimelineEntry::from)))
}

/// Runs `change` on the locked order in the caller's shop and answers its view.
async fn change<F>(
    state: &OrderState,
    caller: &RequireScope<OrdersWrite>,
    id: Uuid,
    change: F,
) -> Result<web::Json<OrderView>, ApiError>
where
    F: AsyncFnOnce(&TenantTx, &Locked, &str) -> Result<(), ApiError>,
{
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let order = workflow::lock(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    change(&tx, &order, &caller.principal.describe()).await?;
    let view = workflow::view(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// A manual payment received.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reference": "ICBC transfer 2026-11-28 #88231"}))]
pub struct MarkPaid {
    /// The bank's or courier's reference (at most 200 characters).
    #[serde(default)]
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub reference: Option<String>,
}

/// Records that the money for a `manual` order arrived (bank transfer received,
/// cash collected): the order is paid and its stock committed.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "The order")),
    request_body = MarkPaid,
    responses(
        (status = 200, description = "Paid", body = OrderView),
        (status = 404, description = "No such order in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not waiting for payment (the current `status` is named)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Reference too long", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/orders/{id}/mark-paid")]
pub async fn mark_paid(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    id: web::Path<Uuid>,
    body: Json<MarkPaid>,
) -> Result<web::Json<OrderView>, ApiError> {
    let reference = body.into_inner().reference.map(|r| r.trim().to_owned());
    if reference.as_ref().is_some_and(|r| r.chars().count() > 200) {
        return Err(ApiError::invalid_field(
            "reference",
            "must be at most 200 characters",
        ));
    }
    change(
        &state,
        &caller,
        id.into_inner(),
        async |tx, order, actor| workflow::pay(tx, order, "manual", reference, actor).await,
    )
    .await
}

/// Units of one line to ship.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"line_id": "0193b2e8-7c41-7b2c-8d3e-4f5a6b7c8d9e", "quantity": 2}))]
pub struct ShipmentInput {
    /// The order line.
    pub line_id: Uuid,
    /// How many units (1 to what is left to ship).
    #[schema(minimum = 1, maximum = 10000)]
    pub quantity: i32,
}

/// A shipment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"carrier": "SF Express", "tracking_number": "SF1234567890123"}))]
pub struct FulfilRequest {
    /// Who carries it (1 to 100 characters).
    // Something besides spaces, which the check trims, and no NUL (see
    // `ZoneInput::name`).
    #[schema(max_length = 100, pattern = r"^[^\x00]*[^\x00\s\u0085][^\x00]*$")]
    pub carrier: String,
    /// The carrier's tracking number (1 to 100 characters).
    #[schema(max_length = 100, pattern = r"^[^\x00]*[^\x00\s\u0085][^\x00]*$")]
    pub tracking_number: String,
    /// Which lines (at least one); absent: everything left to ship.
    #[serde(default)]
    #[schema(min_items = 1)]
    pub lines: Option<Vec<ShipmentInput>>,
}

/// Ships the whole order or some lines; the buyer is emailed the tracking number.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "The order")),
    request_body = FulfilRequest,
    responses(
        (status = 200, description = "Fulfilled or partially fulfilled", body = OrderView),
        (status = 404, description = "No such order in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not paid, or nothing is left to ship (the current `status` is named); nothing is recorded", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing carrier or tracking number, unknown line, or more units than are left", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/orders/{id}/fulfillments")]
pub async fn fulfil(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    id: web::Path<Uuid>,
    body: Json<FulfilRequest>,
) -> Result<web::Json<OrderView>, ApiError> {
    let body = body.into_inner();
    let mut errors = Vec::new();
    let carrier = body.carrier.trim().to_owned();
    let tracking = body.tracking_number.trim().to_owned();
    if carrier.is_empty() || carrier.chars().count() > 100 {
        errors.push(caravan_shared::FieldError::new(
            "carrier",
            "must be 1 to 100 characters",
        ));
    }
    if tracking.is_empty() || tracking.chars().count() > 100 {
        errors.push(caravan_shared::FieldError::new(
            "tracking_number",
            "must be 1 to 100 characters",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid_fields(errors));
    }
    let wanted: Option<Vec<Shipment>> = body.lines.map(|lines| {
        lines
            .iter()
            .map(|line| Shipment {
                line_id: line.line_id,
                quantity: line.quantity,
            })
            .collect()
    });
    change(
        &state,
        &caller,
        id.into_inner(),
        async |tx, order, actor| {
            let parcel = Parcel {
                carrier: &carrier,
                tracking_number: &tracking,
                wanted: wanted.as_deref(),
            };
            workflow::fulfil(tx, order, &parcel, actor).await?;
            Ok(())
        },
    )
    .await
}

/// Marks a shipped order delivered.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "The order")),
    responses(
        (status = 200, description = "Delivered", body = OrderView),
        (status = 404, description = "No such order in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not fully shipped (the current `status` is named)", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/orders/{id}/deliver")]
pub async fn deliver(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    id: web::Path<Uuid>,
) -> Result<web::Json<OrderView>, ApiError> {
    change(
        &state,
        &caller,
        id.into_inner(),
        async |tx, order, actor| workflow::deliver(tx, order, actor).await.map(drop),
    )
    .await
}

/// Why an order is cancelled.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "Buyer asked to cancel"}))]
pub struct CancelRequest {
    /// Shown to staff and in the timeline (1 to 500 characters).
    #[schema(max_length = 500, pattern = r"^[^\x00]*[^\x00\s\u0085][^\x00]*$")]
    pub reason: String,
}

/// Cancels an unpaid or paid, unshipped order: its stock goes back, and what was
/// paid is refunded in full. The buyer is emailed.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "The order")),
    request_body = CancelRequest,
    responses(
        (status = 200, description = "Cancelled", body = OrderView),
        (status = 404, description = "No such order in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Shipped, or already closed (the current `status` is named)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Missing reason", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/orders/{id}/cancel")]
pub async fn cancel(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    id: web::Path<Uuid>,
    body: Json<CancelRequest>,
) -> Result<web::Json<OrderView>, ApiError> {
    let reason = body.into_inner().reason.trim().to_owned();
    if reason.is_empty() || reason.chars().count() > 500 {
        return Err(ApiError::invalid_field(
            "reason",
            "must be 1 to 500 characters",
        ));
    }
    let actor = caller.principal.describe();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let order = workflow::lock(&tx, id.into_inner())
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    let provider = order
        .row
        .payment_provider
        .as_deref()
        .and_then(|name| state.providers.get(name));
    let started =
        workflow::refund::start_cancel(&tx, &order, provider.as_deref(), &reason, &actor).await?;
    tx.commit().await?;
    let refunding = match started {
        Cancelling::Done(view) => return Ok(web::Json(*view)),
        Cancelling::Refunding(refunding) => refunding,
    };
    // A refund begins only with the provider at hand.
    let provider = provider.ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!(
            "a cancellation's refund began without its provider"
        ))
    })?;
    // The provider is asked with no transaction open and the order unlocked.
    let answered = workflow::refund::give_back(provider.as_ref(), &refunding).await;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let finished = workflow::refund::finish_cancel(&tx, &refunding, answered, &reason).await?;
    tx.commit().await?;
    match finished {
        Finished::Done(view) => Ok(web::Json(*view)),
        Finished::Refused(error) => Err(error),
    }
}

/// A refund.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount": {"amount": 2000, "currency": "CNY"}, "reason": "One box arrived damaged"}))]
pub struct RefundRequest {
    /// How much, more than 0 in the order's currency; absent: everything paid and
    /// not yet refunded.
    #[serde(default)]
    #[schema(schema_with = refund_amount_schema)]
    pub amount: Option<Money>,
    /// Why (at most 500 characters).
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub reason: Option<String>,
}

fn refund_amount_schema() -> OneOfBuilder {
    schemas::or_null(schemas::money_at_least(
        "How much, more than 0 in the order's currency; absent: everything paid and not yet refunded.",
        1,
    ))
}

/// Returns money to the buyer through the provider that took it; never more than
/// was paid. Send an `Idempotency-Key` to retry safely: the same caller retrying
/// the same refund of the same order gets the first answer; keys are the caller's
/// own, so another caller's key (in this shop or another) is a new request.
#[utoipa::path(
    tag = "orders",
    security(("bearer" = ["orders:write"])),
    params(
        ("id" = Uuid, Path, description = "The order"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; a retry with the same key answers the first result", pattern = r"^[\x21-\x7E]{1,255}$"),
    ),
    request_body = RefundRequest,
    responses(
        (status = 200, description = "Refunded or partially refunded", body = OrderView),
        (status = 404, description = "No such order in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Nothing was paid, or everything is refunded (the current `status` is named)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "More than is left to refund, another currency, a non-positive amount, or an `Idempotency-Key` that is not 1 to 255 visible ASCII characters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/orders/{id}/refunds")]
pub async fn refund(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    request: HttpRequest,
    id: web::Path<Uuid>,
    body: Json<RefundRequest>,
) -> Result<HttpResponse, ApiError> {
    let id = id.into_inner();
    let body = body.into_inner();
    let reason = body
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    if reason.is_some_and(|r| r.chars().count() > 500) {
        return Err(ApiError::invalid_field(
            "reason",
            "must be at most 500 characters",
        ));
    }
    let key = IdempotencyKey::optional(&request)?;
    // The caller's own key space in its own shop: a stored answer is replayed to
    // nobody else.
    let scope = format!(
        "refund:{}:{}:{id}",
        caller.tenant,
        caller.principal.describe()
    );
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    if let Some(key) = &key
        && let Claim::Replay { status, body } =
            idempotency::claim(tx.conn(), &scope, key, &idempotency::fingerprint(&body)).await?
    {
        tx.rollback().await?;
        return Ok(idempotency::replay(status, &body));
    }
    let order = workflow::lock(&tx, id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such order"))?;
    let provider = order
        .row
        .payment_provider
        .as_deref()
        .and_then(|name| state.providers.get(name))
        .ok_or_else(|| {
            order
                .row
                .status
                .allows(crate::domain::Action::Refund { full: true })
                .err()
                .map_or_else(
                    || {
                        ApiError::unavailable(
                            "the provider that took the payment is not offered any more",
                        )
                    },
                    workflow::illegal,
                )
        })?;
    // Recorded as pending (with the key claimed) and committed; the provider is
    // asked with no transaction open and the order unlocked.
    let refunding = workflow::refund::start_refund(
        &tx,
        &order,
        provider.as_ref(),
        body.amount,
        &caller.principal.describe(),
    )
    .await?;
    tx.commit().await?;
    let answered = workflow::refund::give_back(provider.as_ref(), &refunding).await;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    match workflow::refund::finish_refund(&tx, &refunding, answered, reason).await? {
        Finished::Done(view) => {
            if let Some(key) = &key {
                let answer = serde_json::to_value(&view).map_err(anyhow::Error::from)?;
                idempotency::save(tx.conn(), &scope, key, 200, &answer).await?;
            }
            tx.commit().await?;
            Ok(HttpResponse::Ok().json(view))
        }
        Finished::Refused(error) => {
            // Not refunded: a retry with the key is a new request, as before.
            if let Some(key) = &key {
                store::release_idempotency_key(tx.conn(), &scope, key.as_str()).await?;
            }
            tx.commit().await?;
            Err(error)
        }
    }
}
