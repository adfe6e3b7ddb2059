//! Group deals (拼团): staff make, edit and end deals and follow their groups
//! (owners and staff, or apps with `orders:read` / `orders:write`); buyers read a
//! product's live deals and a group's share page.

use super::OrderState;
use crate::catalog::Sellable;
use crate::domain::{DealTerms, GroupStatus, TermsInput};
use crate::store::{self, DealRow};
use crate::views::{
    DealList, DealView, GroupList, GroupView, PublicDeal, PublicDealList, PublicGroup,
};
use actix_web::{HttpResponse, get, patch, post, web};
use caravan_shared::domain::{Money, Page, PageQuery, PageRequest};
use caravan_shared::error::{FieldError, Problem};
use caravan_shared::http::Json;
use caravan_shared::identity::RequireScope;
use caravan_shared::identity::scopes::{OrdersRead, OrdersWrite};
use caravan_shared::tenancy::{TenantScoped, TenantTx};
use caravan_shared::{ApiError, ErrorCode, TenantId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A new group deal.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f", "prices": [{"amount": 5900, "currency": "CNY"}],
    "group_size": 3, "open_hours": 24, "max_units": 200, "ends_at": "2026-12-31T00:00:00Z"
}))]
pub struct DealRequest {
    /// The variant the deal sells.
    pub variant_id: Uuid,
    /// The group price in each currency it is offered in: above zero and below the
    /// variant's normal price in that currency.
    pub prices: Vec<Money>,
    /// Paid orders a group needs to form: 2 to 50.
    #[schema(minimum = 2, maximum = 50)]
    pub group_size: i32,
    /// Hours a group stays open after it opens: 1 to 72.
    #[schema(minimum = 1, maximum = 72)]
    pub open_hours: i32,
    /// Units the deal may sell in all: 1 to 1,000,000.
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_units: i32,
    /// When groups may first open; absent or past: now.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// When groups may no longer open: after `starts_at`, in the future, at most
    /// 366 days ahead.
    pub ends_at: DateTime<Utc>,
}

/// New terms for a deal no group has opened on; what is absent stays.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"group_size": 5, "prices": [{"amount": 5500, "currency": "CNY"}]}))]
pub struct DealPatch {
    /// The group prices, replacing all of them.
    #[serde(default)]
    pub prices: Option<Vec<Money>>,
    /// 2 to 50.
    #[serde(default)]
    #[schema(minimum = 2, maximum = 50)]
    pub group_size: Option<i32>,
    /// 1 to 72.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 72)]
    pub open_hours: Option<i32>,
    /// 1 to 1,000,000.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 1_000_000)]
    pub max_units: Option<i32>,
    /// When groups may first open.
    #[serde(default)]
    pub starts_at: Option<DateTime<Utc>>,
    /// When groups may no longer open.
    #[serde(default)]
    pub ends_at: Option<DateTime<Utc>>,
}

/// The variant of a deal as the catalog sells it now, or 422 on `variant_id`.
async fn variant(
    state: &OrderState,
    tenant: TenantId,
    id: Uuid,
    fresh: bool,
) -> Result<Option<Sellable>, ApiError> {
    Ok(state
        .catalog
        .variants(tenant, &[id], fresh)
        .await?
        .remove(&id))
}

/// Each group price must be below the variant's normal price in its currency.
fn below_regular(terms: &DealTerms, sellable: &Sellable) -> Result<(), ApiError> {
    let errors: Vec<FieldError> = terms
        .prices
        .iter()
        .enumerate()
        .filter_map(|(index, price)| match sellable.price_in(price.currency) {
            None => Some(FieldError::new(
                format!("prices[{index}].currency"),
                format!("the variant is not sold in {}", price.currency),
            )),
            Some(regular) if price.amount >= regular.amount => Some(FieldError::new(
                format!("prices[{index}].amount"),
                format!("must be below the normal price, {}", regular.format()),
            )),
            Some(_) => None,
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::invalid_fields(errors))
    }
}

fn terms_of(deal: &DealRow) -> DealTerms {
    DealTerms {
        prices: crate::views::deal_prices(deal),
        group_size: deal.group_size,
        open_hours: deal.open_hours,
        max_units: deal.max_units,
        starts_at: deal.starts_at,
        ends_at: deal.ends_at,
    }
}

/// The staff views of `deals`, with their figures and variants.
async fn deal_views(
    state: &OrderState,
    scope: &impl TenantScoped,
    deals: &[DealRow],
) -> Result<Vec<DealView>, ApiError> {
    let ids: Vec<Uuid> = deals.iter().map(|d| d.id).collect();
    let figures = store::deal_figures(scope, &ids).await?;
    let variants: Vec<Uuid> = deals.iter().map(|d| d.variant_id).collect();
    let sellables = state
        .catalog
        .variants(scope.tenant(), &variants, false)
        .await?;
    let now = Utc::now();
    Ok(deals
        .iter()
        .map(|deal| {
            DealView::new(
                deal,
                figures.get(&deal.id).copied().unwrap_or_default(),
                sellables.get(&deal.variant_id),
                now,
            )
        })
        .collect())
}

async fn one_view(
    state: &OrderState,
    scope: &impl TenantScoped,
    id: Uuid,
) -> Result<DealView, ApiError> {
    let deal = store::deal(scope, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("no such deal"))?;
    let mut views = deal_views(state, scope, &[deal]).await?;
    views
        .pop()
        .ok_or_else(|| ApiError::not_found("no such deal"))
}

/// Makes a group deal on a variant of the shop: buyers who buy it together, a
/// group of `group_size` paid orders within `open_hours`, pay the group price.
#[utoipa::path(
    tag = "group deals",
    security(("bearer" = ["orders:write"])),
    request_body = DealRequest,
    responses(
        (status = 201, description = "The deal", body = DealView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:write`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid terms (each field named): no such variant, a price not below the variant's normal price or in a currency it is not sold in, a size, time or unit count out of range, an end before the start or in the past", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog cannot be reached; nothing was made", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/group-deals")]
#[tracing::instrument(skip_all, fields(tenant = %caller.tenant))]
pub async fn create(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    body: Json<DealRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let terms = DealTerms::parse(
        TermsInput {
            prices: Some(body.prices),
            group_size: Some(body.group_size),
            open_hours: Some(body.open_hours),
            max_units: Some(body.max_units),
            starts_at: body.starts_at,
            ends_at: Some(body.ends_at),
        },
        None,
        Utc::now(),
    )
    .map_err(ApiError::invalid_fields)?;
    let sellable = variant(&state, caller.tenant, body.variant_id, true)
        .await?
        .ok_or_else(|| ApiError::invalid_field("variant_id", "no such variant in this shop"))?;
    below_regular(&terms, &sellable)?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let deal = store::insert_deal(&tx, sellable.variant_id, sellable.product_id, &terms).await?;
    tx.commit().await?;
    let view = DealView::new(&deal, Default::default(), Some(&sellable), Utc::now());
    Ok(HttpResponse::Created().json(view))
}

/// The shop's group deals, newest first.
#[utoipa::path(
    tag = "group deals",
    security(("bearer" = ["orders:read"])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of deals", body = DealList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/group-deals")]
pub async fn list(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<DealList>, ApiError> {
    let page = PageRequest::from_query(query.into_inner())?;
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let rows = store::deals(
        &tx,
        None,
        page.after::<(DateTime<Utc>, Uuid)>()?,
        page.fetch_limit(),
    )
    .await?;
    let page = Page::from_rows(rows, page.limit(), |row| (row.created_at, row.id));
    let items = deal_views(&state, &tx, &page.items).await?;
    tx.commit().await?;
    Ok(web::Json(DealList {
        items,
        next_cursor: page.next_cursor,
    }))
}

/// One group deal, with its groups by status and the units taken.
#[utoipa::path(
    tag = "group deals",
    security(("bearer" = ["orders:read"])),
    params(("id" = Uuid, Path, description = "The deal")),
    responses(
        (status = 200, description = "The deal", body = DealView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such deal in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/group-deals/{id}")]
pub async fn show(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    id: web::Path<Uuid>,
) -> Result<web::Json<DealView>, ApiError> {
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let view = one_view(&state, &tx, id.into_inner()).await?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// Changes a deal's terms, until its first group opens.
#[utoipa::path(
    tag = "group deals",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "The deal")),
    request_body = DealPatch,
    responses(
        (status = 200, description = "The deal as changed", body = DealView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:write`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such deal in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "`deal_locked`: a group has opened on it", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid terms, each field named", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog cannot be reached; nothing was changed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/v1/group-deals/{id}")]
#[tracing::instrument(skip_all, fields(tenant = %caller.tenant))]
pub async fn update(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    id: web::Path<Uuid>,
    body: Json<DealPatch>,
) -> Result<web::Json<DealView>, ApiError> {
    let body = body.into_inner();
    let id = id.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    // Locked: a group opening now waits, and finds the new terms.
    let deal = store::deal(&tx, id, true)
        .await?
        .ok_or_else(|| ApiError::not_found("no such deal"))?;
    let figures = store::deal_figures(&tx, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    if figures.opened() {
        return Err(ApiError::conflict(
            ErrorCode::DealLocked,
            "a group has opened on this deal, so its terms stay as they are; end it and make a new one",
        ));
    }
    let terms = DealTerms::parse(
        TermsInput {
            prices: body.prices,
            group_size: body.group_size,
            open_hours: body.open_hours,
            max_units: body.max_units,
            starts_at: body.starts_at,
            ends_at: body.ends_at,
        },
        Some(&terms_of(&deal)),
        Utc::now(),
    )
    .map_err(ApiError::invalid_fields)?;
    let sellable = variant(&state, caller.tenant, deal.variant_id, true)
        .await?
        .ok_or_else(|| ApiError::invalid_field("variant_id", "the deal's variant is gone"))?;
    below_regular(&terms, &sellable)?;
    store::update_deal(&tx, id, &terms).await?;
    let view = one_view(&state, &tx, id).await?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// Ends a deal now: no new group opens; groups already forming run their time.
#[utoipa::path(
    tag = "group deals",
    security(("bearer" = ["orders:write"])),
    params(("id" = Uuid, Path, description = "The deal")),
    responses(
        (status = 200, description = "The deal, `ended`", body = DealView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:write`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such deal in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/group-deals/{id}/end")]
pub async fn end(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersWrite>,
    id: web::Path<Uuid>,
) -> Result<web::Json<DealView>, ApiError> {
    let id = id.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    store::deal(&tx, id, true)
        .await?
        .ok_or_else(|| ApiError::not_found("no such deal"))?;
    store::end_deal(&tx, id).await?;
    let view = one_view(&state, &tx, id).await?;
    tx.commit().await?;
    Ok(web::Json(view))
}

/// Filters of a deal's groups.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct GroupsQuery {
    /// Only groups in this status.
    #[param(inline, value_type = Option<GroupStatus>)]
    pub status: Option<String>,
    /// Page size (1–100, default 20).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// From the previous page's `next_cursor`.
    #[param(min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The groups of a deal, newest first, each with its places (orders are listed on
/// the group itself).
#[utoipa::path(
    tag = "group deals",
    security(("bearer" = ["orders:read"])),
    params(("id" = Uuid, Path, description = "The deal"), GroupsQuery),
    responses(
        (status = 200, description = "A page of groups", body = GroupList),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such deal in this shop", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid status, limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/group-deals/{id}/groups")]
pub async fn list_groups(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    id: web::Path<Uuid>,
    query: web::Query<GroupsQuery>,
) -> Result<web::Json<GroupList>, ApiError> {
    let query = query.into_inner();
    let status = query
        .status
        .map(|raw| {
            GroupStatus::parse(&raw).ok_or_else(|| {
                ApiError::invalid_field("status", "must be one of: forming, formed, failed")
            })
        })
        .transpose()?;
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let id = id.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    store::deal(&tx, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("no such deal"))?;
    let rows = store::groups_of_deal(
        &tx,
        id,
        status,
        page.after::<(DateTime<Utc>, Uuid)>()?,
        page.fetch_limit(),
    )
    .await?;
    let page = Page::from_rows(rows, page.limit(), |row| (row.created_at, row.id));
    let ids: Vec<Uuid> = page.items.iter().map(|g| g.id).collect();
    let places = store::places(&tx, &ids).await?;
    tx.commit().await?;
    Ok(web::Json(GroupList {
        items: page
            .items
            .iter()
            .map(|group| {
                GroupView::new(
                    group,
                    places.get(&group.id).copied().unwrap_or_default(),
                    &[],
                )
            })
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// One group with its orders, oldest first.
#[utoipa::path(
    tag = "group deals",
    security(("bearer" = ["orders:read"])),
    params(("id" = Uuid, Path, description = "The group")),
    responses(
        (status = 200, description = "The group and its orders", body = GroupView),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not the shop's staff, no `orders:read`, or the shop is suspended", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such group in this shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/groups/{id}")]
pub async fn show_group(
    state: web::Data<OrderState>,
    caller: RequireScope<OrdersRead>,
    id: web::Path<Uuid>,
) -> Result<web::Json<GroupView>, ApiError> {
    let id = id.into_inner();
    let tx = TenantTx::begin(&state.context.db, caller.tenant).await?;
    let group = store::group(&tx, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("no such group"))?;
    let places = store::places(&tx, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let orders = store::group_orders(&tx, id).await?;
    tx.commit().await?;
    Ok(web::Json(GroupView::new(&group, places, &orders)))
}

/// Which product's deals a buyer asks for.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PublicDealsQuery {
    /// Only this product's deals.
    pub product_id: Option<Uuid>,
}

/// Buyers' views of `deals` whose variant the shop still sells.
async fn public_deals(
    state: &OrderState,
    scope: &impl TenantScoped,
    deals: &[DealRow],
) -> Result<HashMap<Uuid, PublicDeal>, ApiError> {
    let ids: Vec<Uuid> = deals.iter().map(|d| d.id).collect();
    let figures = store::deal_figures(scope, &ids).await?;
    let variants: Vec<Uuid> = deals.iter().map(|d| d.variant_id).collect();
    let sellables = state
        .catalog
        .variants(scope.tenant(), &variants, false)
        .await?;
    let now = Utc::now();
    Ok(deals
        .iter()
        .filter_map(|deal| {
            let sellable = sellables
                .get(&deal.variant_id)
                .filter(|s| s.product_status == "active")?;
            let figures = figures.get(&deal.id).copied().unwrap_or_default();
            Some((deal.id, PublicDeal::new(deal, figures, sellable, now)))
        })
        .collect())
}

/// The shop's group deals open to new groups now, of one product if named.
#[utoipa::path(
    tag = "storefront",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        PublicDealsQuery,
    ),
    responses(
        (status = 200, description = "The live deals", body = PublicDealList),
        (status = 404, description = "No such shop", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog cannot be reached", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops/{shop}/group-deals")]
pub async fn storefront_deals(
    state: web::Data<OrderState>,
    shop: web::Path<String>,
    query: web::Query<PublicDealsQuery>,
) -> Result<web::Json<PublicDealList>, ApiError> {
    let shop = state.storefront(&shop).await?;
    let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
    let rows = store::deals(&tx, query.product_id, None, 100).await?;
    let now = Utc::now();
    let live: Vec<DealRow> = rows
        .into_iter()
        .filter(|d| {
            crate::domain::DealStatus::at(now, d.starts_at, d.ends_at, d.ended_at)
                == crate::domain::DealStatus::Live
        })
        .collect();
    let mut views = public_deals(&state, &tx, &live).await?;
    tx.commit().await?;
    Ok(web::Json(PublicDealList {
        items: live.iter().filter_map(|d| views.remove(&d.id)).collect(),
    }))
}

/// A group's share page: its places, its time, its deal.
#[utoipa::path(
    tag = "storefront",
    params(
        ("shop" = String, Path, description = "The shop's slug", min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(-[a-z0-9]+)*$"),
        ("id" = Uuid, Path, description = "The group"),
    ),
    responses(
        (status = 200, description = "The group", body = PublicGroup),
        (status = 404, description = "No such shop or group, or its product is no longer sold", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "The catalog cannot be reached", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops/{shop}/groups/{id}")]
pub async fn storefront_group(
    state: web::Data<OrderState>,
    path: web::Path<(String, Uuid)>,
) -> Result<web::Json<PublicGroup>, ApiError> {
    let (shop, id) = path.into_inner();
    let shop = state.storefront(&shop).await?;
    let tx = TenantTx::begin(&state.context.db, shop.tenant).await?;
    let group = store::group(&tx, id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("no such group"))?;
    let deal = store::deal(&tx, group.deal_id, false)
        .await?
        .ok_or_else(|| ApiError::not_found("no such group"))?;
    let places = store::places(&tx, &[id])
        .await?
        .remove(&id)
        .unwrap_or_default();
    let mut deals = public_deals(&state, &tx, std::slice::from_ref(&deal)).await?;
    tx.commit().await?;
    let deal = deals
        .remove(&deal.id)
        .ok_or_else(|| ApiError::not_found("no such group"))?;
    Ok(web::Json(PublicGroup::new(&group, places, deal)))
}
