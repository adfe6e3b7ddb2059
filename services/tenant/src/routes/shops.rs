//! Public reads: plans, and a shop's profile for storefronts.

use super::TenantState;
use super::views::{PlanView, ShopProfile};
use crate::store;
use actix_web::{get, web};
use caravan_shared::ApiError;
use caravan_shared::error::Problem;

/// The plans and their limits.
#[utoipa::path(
    tag = "shops",
    responses((status = 200, description = "Every plan, cheapest first", body = Vec<PlanView>))
)]
#[get("/v1/plans")]
pub async fn plans(state: web::Data<TenantState>) -> Result<web::Json<Vec<PlanView>>, ApiError> {
    let plans = store::plans(&state.context.db)
        .await?
        .into_iter()
        .map(PlanView::try_from)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| ApiError::internal(anyhow::anyhow!("stored plan: {error}")))?;
    Ok(web::Json(plans))
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
