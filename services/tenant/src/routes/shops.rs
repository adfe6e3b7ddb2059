//! Public reads: plans, and a shop's profile for storefronts.

use super::TenantState;
use super::views::{PlanView, ShopListing, ShopProfile};
use crate::store;
use actix_web::{get, web};
use caravan_shared::ApiError;
use caravan_shared::domain::{Page, PageQuery, PageRequest};
use caravan_shared::error::Problem;
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

/// The plans and their limits.
#[utoipa::path(
    tag = "shops",
    params(PageQuery),
    responses(
        (status = 200, description = "The plans, cheapest first", body = Page<PlanView>),
        (status = 422, description = "A limit outside 1 to 100 or a cursor this API did not issue", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/plans")]
pub async fn plans(
    state: web::Data<TenantState>,
    query: web::Query<PageQuery>,
) -> Result<web::Json<Page<PlanView>>, ApiError> {
    let page = PageRequest::from_query(query.into_inner())?;
    let plans = store::plans(&state.context.db).await?;
    let plans = Page::from_sorted(plans, &page, |plan| (plan.position, plan.code.clone()))?;
    let items = plans
        .items
        .into_iter()
        .map(PlanView::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ApiError::internal(anyhow::anyhow!("stored plan: {error}")))?;
    Ok(web::Json(Page {
        items,
        next_cursor: plans.next_cursor,
    }))
}

/// A page of the shop directory.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct DirectoryQuery {
    /// Page size: 1 to 100 (default 20).
    #[param(nullable = false, minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
    /// `next_cursor` of the previous page.
    #[param(nullable = false, min_length = 1, pattern = "^[A-Za-z0-9_-]+$")]
    pub cursor: Option<String>,
}

/// The public directory of open shops, oldest first: what a buyer may browse.
/// Suspended and closed shops are not listed.
#[utoipa::path(
    tag = "shops",
    params(DirectoryQuery),
    responses(
        (status = 200, description = "A page of open shops", body = Page<ShopListing>),
        (status = 422, description = "Bad page size or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops")]
pub async fn directory(
    state: web::Data<TenantState>,
    query: web::Query<DirectoryQuery>,
) -> Result<web::Json<Page<ShopListing>>, ApiError> {
    let query = query.into_inner();
    let page = PageRequest::from_query(PageQuery {
        limit: query.limit,
        cursor: query.cursor,
    })?;
    let after: Option<Uuid> = page.after()?;
    let active = store::ShopFilter {
        status: Some("active"),
        ..Default::default()
    };
    let rows = store::tenants(&state.context.db, active, &page, after).await?;
    Ok(web::Json(
        Page::from_rows(rows, page.limit(), |row| row.id).map(ShopListing::from),
    ))
}

/// A shop's public profile: name, description, currencies, locales. Only active
/// shops exist for buyers.
#[utoipa::path(
    tag = "shops",
    params(("slug" = String, Path, description = "The shop's slug", example = "zhongning-goji",
        min_length = 3, max_length = 40, pattern = "^[a-z0-9]+(?:-[a-z0-9]+)*$")),
    responses(
        (status = 200, description = "The shop", body = ShopProfile),
        (status = 404, description = "No such active shop", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/shops/{slug}")]
pub async fn profile(
    state: web::Data<TenantState>,
    slug: web::Path<String>,
) -> Result<web::Json<ShopProfile>, ApiError> {
    match store::tenant_by_slug(&state.context.db, &slug).await? {
        Some(shop) if shop.status == "active" => Ok(web::Json(shop.into())),
        _ => Err(ApiError::not_found("no such shop")),
    }
}
