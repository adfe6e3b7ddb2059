//! What platform operators read of the catalog: how much of their plans' product
//! quota the shops use.

use super::CatalogState;
use crate::store;
use actix_web::{get, web};
use caravan_shared::error::Problem;
use caravan_shared::identity::Operator;
use caravan_shared::operations::{self, Usage, UsageQuery};
use caravan_shared::{ApiError, TenantId};
use std::collections::BTreeMap;

/// How many products a shop has, counted as its plan's `max_products` counts them
/// (every product but archived ones): `counts.products`. Without `tenant_id`, the
/// total over every shop (platform operators).
#[utoipa::path(
    tag = "operations",
    security(("bearer" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "`counts.products`; `sales` is empty", body = Usage,
            example = json!({"tenant_id": "0193a7c4-1f00-7a3e-8b1d-2c4e6f8a0b11", "counts": {"products": 37}, "sales": []})),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No shop with this id", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`tenant_id` is not a UUID", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/operations/catalog/usage")]
pub async fn catalog_usage(
    state: web::Data<CatalogState>,
    _operator: Operator,
    query: web::Query<UsageQuery>,
) -> Result<web::Json<Usage>, ApiError> {
    let tenant = query.tenant()?;
    let products = operations::per_shop(&state.context.db, tenant, async |shop| {
        store::counted_products(shop).await
    })
    .await?;
    Ok(web::Json(Usage {
        tenant_id: tenant.map(TenantId::into_uuid),
        counts: BTreeMap::from([("products".to_owned(), products.iter().sum())]),
        sales: Vec::new(),
    }))
}
