//! Harvest pre-orders (预售): staff make campaigns, announce the harvest or call
//! it off, and follow the pre-orders (owners and staff, or apps with
//! `orders:read` / `orders:write`); buyers read a product's open campaigns.

use super::OrderState;
use crate::catalog::Sellable;
use crate::domain::{CampaignInput, CampaignStatus, CampaignTerms, DepositPolicy};
use crate::store::{self, CampaignRow};
use crate::sweep::Sweep;
use crate::views::{
    CampaignList, CampaignOrders, CampaignView, OrderBrief, PublicCampaign, PublicCampaignList,
};
use crate::workflow::preorder;
use actix_web::{HttpResponse, get, post, web};
use caravan_shared::domain::{Money, Page, PageQuery, PageRequest};
use caravan_shared::error::{FieldError, Problem};
use caravan_shared::http::Json;
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::{OrdersRead, OrdersWrite};
use caravan_shared::tenancy::{TenantScoped, TenantTx};
use caravan_shared::{ApiError, ErrorCode};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A new pre-order campaign.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f", "allocation": 500, "ships_from": "2027-07-20",
    "deposits": [{"amount": 3000, "currency": "CNY"}], "balance_days": 7, "deposit_policy": "forfeit"
}))]
pub struct CampaignRequest {
    /// The variant whose next harvest is pre-sold.
    pub variant_id: Uuid,
    /// Units the harvest is promised to: 1 to 1,000,000.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub allocation: i32,
    /// The day the harvest ships from: not in the past, at most 731 days ahead.
    pub ships_from: NaiveDate,
    /// The deposit per unit in each currency (above zero, below the variant's price
    /// in that currency); absent or `null`: pre-orders are paid in full.
    #[serde(default)]
    pub deposits: Option<Vec<Money>>,
    /// Days buyers have to pay the balance once the harvest is announced: 1 to 60,
    /// default 7.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 60)]
    pub balance_days: Option<i32>,
    /// What an unpaid balance costs: the deposit (`forfeit`, the default) or
    /// nothing (`refund`).
    #[serde(default)]
    pub deposit_policy: Option<DepositPolicy>,
    /// When pre-orders close, if before the harvest: in the future, at most 731
    /// days ahead.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
}

/// Why a harvest is called off, as buyers are told.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"reason": "冰雹毁了今年的哈密瓜"}))]
pub struct CallOffRequest {
    /// 1 to 300 characters, on one line; every buyer's email quotes it.
    #[schema(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$"
    )]
    pub reason: String,
}

/// Each deposit must be below the variant's price in its currency.
fn below_price(terms: &CampaignTerms, sellable: &Sellable) -> Result<(), ApiError> {
    let Some(deposits) = &terms.deposits else {
        return Ok(());
    };
    let errors: Vec<FieldError> = deposits
        .iter()
        .enumerate()
        .filter_map(
            |(index, deposit)| match sellable.price_in(deposit.currency) {
                None => Some(FieldError::new(
                    format!("deposits[{index}].currency"),
                    format!("the variant is not sold in {}", deposit.currency),
                )),
                Some(price) if deposit.amount >= price.amount => Some(FieldError::new(
                    format!("deposits[{index}].amount"),
                    format!("must be below the price, {}", price.format()),
                )),
                Some(_) => None,
            },
        )
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_fields(errors))
    }
}

/// The staff views of `campaigns`, with their figures and variants.
async fn views(
    state: &OrderState,
    scope: &impl TenantScoped,
    campaigns: &[CampaignRow],
) -> Result<Vec<CampaignView>, ApiError> {
    let ids: Vec<Uuid> = campaigns.iter().map(|c| c.id).collect();
    let figures = store::campaign_figures(scope, &ids).await?;
    let variants: Vec<Uuid> = campaigns.iter().map(|c| c.variant_id).collect();
    let sellables = state
        .catalog
        .variants(scope.tenant(), &variants, false)
        .await?;
    Ok(campaigns
        .iter()
        .map(|campaign| {
            CampaignView::new(
                campaign,
                figures.get(&campaign.id).copied().unwrap_or_default(),
                sellables.get(&campaign.variant_id),
            )
        })
        .collect())
}

async fn one_view(
    state: &OrderState,
    scope: &impl TenantScoped,
    id: Uuid,
) -> Result<CampaignView, ApiError> {
    let campaign = store::campaign(scope, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("no such campaign"))?;
    views(state, scope, &[campaign])
        .await?
        .pop()
        .ok_or_else(|| ApiError::not_found("no such campaign"))
}

/// Offers a variant's next harvest for pre-order: up to `allocation` units,
/// shipping from `ships_from`, paid in full or by a deposit with the balance due
/// once the harvest is announced. Pre-orders hold no stock.
#[utoipa::path(
    tag = "pre-orders",
    security(("bearer" = ["orders:write"])),
    request_body = CampaignRequest,
    responses(
        (status = 201, description = "The campaign, open", body = CampaignView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:write`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid terms (each field named): no such variant, a deposit not below the price or in a currency the variant is not sold in, an allocation or balance time out of range, a ships-from day or end in the past", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog cannot be reached; nothing was made", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/preorder-campaigns")]
#[tracing::instrument(skip_all, fields(tenant = %caller.tenant))]
pub async fn create(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    body: Json<CampaignRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let terms = CampaignTerms::parse(
        CampaignInput {
            allocation: body.allocation,
            ships_from: body.ships_from,
            deposits: body.deposits,
            balance_days: body.balance_days,
            deposit_policy: body.deposit_policy,
            ends_at: body.ends_at,
        },
        Utc::now(),
    )
    .map_err(ApiError::invalid_fields)?;
    let sellable = state
        .catalog
        .variants(caller.tenant, &[body.variant_id], true)
        .await?
        .remove(&body.variant_id)
        .ok_or_else(|| ApiError::invalid_field("variant_id", "no such variant in this shop"))?;
    below_price(&terms, &sellable)?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let campaign =
        store::insert_campaign(&tx, sellable.variant_id, sellable.product_id, &terms).await?;
    tx.commit().await?;
    Ok(HttpResponse::Created().json(CampaignView::new(
        &campaign,
        Default::default(),
        Some(&sellable),
    )))
}

/// The shop's pre-order campaigns, newest first, each with its allocation and the
/// units sold, paid and shipped.
#[utoipa::path(
    tag = "pre-orders",
    security(("bearer" = ["orders:read"])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of campaigns", body = CampaignList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/preorder-campaigns")]
pub async fn list(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<CampaignList>, ApiError> {
    let page = PageRequest::from_query(query.into_inner())?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let rows = store::campaigns(
        &tx,
        None,
        page.after::<(DateTime<Utc>, Uuid)>()?,
        page.fetch_limit(),
    )
    .await?;
    let page = Page::from_rows(rows, page.limit(), |row| (row.created_at, row.id));
    let items = views(&state, &tx, &page.items).await?;
    tx.commit().await?;
    Ok(web::Json(CampaignList {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// One campaign.
#[utoipa::path(
    tag = "pre-orders",
    security(("bearer" = ["orders:read"])),
    params(("id" = Uuid, Path, description = "The campaign")),
    responses(
        (status = 200, description = "The campaign", body = CampaignView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such campaign in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/preorder-campaigns/{id}")]
pub async fn show(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    id: web::Path<Uuid>,
) -> Result<web::Json<CampaignView>, ApiError> {
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let view = one_view(&state, &tx, id.into_inner()).await?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// A campaign's pre-orders, in order of purchase (the first placed first).
#[utoipa::path(
    tag = "pre-orders",
    security(("bearer" = ["orders:read"])),
    params(("id" = Uuid, Path, description = "The campaign"), PageQuery),
    responses(
        (status = 200, description = "A page of its pre-orders", body = CampaignOrders),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such campaign in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/preorder-campaigns/{id}/orders")]
pub async fn orders(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    id: web::Path<Uuid>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<CampaignOrders>, ApiError> {
    let page = PageRequest::from_query(query.into_inner())?;
    let id = id.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    store::campaign(&tx, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("no such campaign"))?;
    let rows = store::campaign_orders_page(
        &tx,
        id,
        page.after::<(DateTime<Utc>, Uuid)>()?,
        page.fetch_limit(),
    )
    .await?;
    tx.commit().await?;
    let page = Page::from_rows(rows, page.limit(), |row| (row.created_at, row.id));
    Ok(web::Json(CampaignOrders {
        items: page.items.iter().map(OrderBrief::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Announces the harvest: pre-orders paid in full move to fulfilment in order of
/// purchase; buyers who paid a deposit are emailed a link to pay the balance
/// within the campaign's `balance_days`. Pre-orders close.
#[utoipa::path(
    tag = "pre-orders",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "The campaign")),
    responses(
        (status = 200, description = "The campaign, `harvested`", body = CampaignView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:write`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such campaign in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`campaign_closed`: harvested or called off already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/preorder-campaigns/{id}/harvest")]
#[tracing::instrument(skip_all, fields(tenant = %caller.tenant))]
pub async fn harvest(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    id: web::Path<Uuid>,
) -> Result<web::Json<CampaignView>, ApiError> {
    let id = id.into_inner();
    let actor = caller.principal.describe();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let shop = caravan_shared::tenant_status::shop(tx.conn(), caller.tenant)
        .await?
        .ok_or_else(|| ApiError::not_found("no such shop"))?;
    let campaign = store::campaign(&tx, id, true)
        .await?
        .ok_or_else(|| ApiError::not_found("no such campaign"))?;
    preorder::announce(
        &tx,
        &campaign,
        &state.context.settings.public_url,
        &shop.slug,
        &actor,
    )
    .await?;
    let view = one_view(&state, &tx, id).await?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// Calls the harvest off (hail, frost): every pre-order is cancelled and refunded
/// in full, and its buyer emailed with the reason. Only before the harvest is
/// announced.
#[utoipa::path(
    tag = "pre-orders",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "The campaign")),
    request_body = CallOffRequest,
    responses(
        (status = 200, description = "The campaign, `called_off`; its pre-orders are cancelled and refunded at once, or by the sweep within moments if a refund must be tried again", body = CampaignView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:write`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such campaign in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`campaign_closed`: harvested or called off already", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "No reason, or one over 300 characters", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/preorder-campaigns/{id}/call-off")]
#[tracing::instrument(skip_all, fields(tenant = %caller.tenant))]
pub async fn call_off(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    id: web::Path<Uuid>,
    body: Json<CallOffRequest>,
) -> Result<web::Json<CampaignView>, ApiError> {
    let reason = caravan_shared::domain::text::line(&body.reason, "reason", 1, 300)
        .map_err(|error| ApiError::invalid_fields(vec![error]))?;
    let id = id.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let campaign = store::campaign(&tx, id, true)
        .await?
        .ok_or_else(|| ApiError::not_found("no such campaign"))?;
    if campaign.status != CampaignStatus::Open {
        return Err(ApiError::conflict(
            ErrorCode::CampaignClosed,
            format!(
                "this harvest is {} already",
                campaign.status.as_str().replace('_', " ")
            ),
        ));
    }
    store::call_off_campaign(&tx, id, &reason).await?;
    let after = store::campaign(&tx, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("no such campaign"))?;
    preorder::publish(&tx, "preorder.called_off", &after, serde_json::json!({})).await?;
    tx.commit().await?;
    // The pre-orders now; what cannot be settled now, the sweep settles.
    let sweep = Sweep::new(
        state.context.db.clone(),
        state.providers.clone(),
        std::time::Duration::ZERO,
    );
    if let Err(error) = sweep.settle_campaign(caller.tenant, id).await {
        tracing::warn!(error = %format!("{error:#}"), "a called-off harvest is left to the sweep");
    }
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let view = one_view(&state, &tx, id).await?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// Which product's campaigns a buyer asks for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicCampaignsQuery {
    /// Only this product's campaigns.
    pub product_id: Option<Uuid>,
}

/// The shop's harvests open for pre-order, of one product if named.
#[utoipa::path(
    tag = "storefront",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        PublicCampaignsQuery,
    ),
    responses(
        (status = 200, description = "The open campaigns", body = PublicCampaignList),
        (status = 404, description = "No such shop", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog cannot be reached", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops/{shop}/preorder-campaigns")]
pub async fn storefront_campaigns(
    state: web::Data<OrderState>,
    shop: web::Path<String>,
    query: web::Query<PublicCampaignsQuery>,
) -> Result<web::Json<PublicCampaignList>, ApiError> {
    let shop = state.storefront(&shop).await?;
    let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
    let now = Utc::now();
    let open: Vec<CampaignRow> = store::campaigns(&tx, query.product_id, None, 100)
        .await?
        .into_iter()
        .filter(|c| c.status == CampaignStatus::Open && c.ends_at.is_none_or(|end| end > now))
        .collect();
    let ids: Vec<Uuid> = open.iter().map(|c| c.id).collect();
    let figures = store::campaign_figures(&tx, &ids).await?;
    tx.commit().await?;
    let variants: Vec<Uuid> = open.iter().map(|c| c.variant_id).collect();
    let sellables = state
        .catalog
        .variants(shop.tenant, &variants, false)
        .await?;
    Ok(web::Json(PublicCampaignList {
        items: open
            .iter()
            .filter_map(|campaign| {
                let sellable = sellables
                    .get(&campaign.variant_id)
                    .filter(|s| s.product_status == "active")?;
                Some(PublicCampaign::new(
                    campaign,
                    figures.get(&campaign.id).copied().unwrap_or_default(),
                    sellable,
                ))
            })
            .collect(),
    }))
}
