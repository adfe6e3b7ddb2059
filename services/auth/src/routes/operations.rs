//! What platform operators read of the accounts: how much of their plans' staff
//! quota the shops use.

use super::AuthState;
use crate::store;
use actix_web::{get, web};
use caravan_shared::error::Problem;
use caravan_shared::identity::Operator;
use caravan_shared::operations::{self, Usage, UsageQuery};
use caravan_shared::{ApiError, TenantId};
use std::collections::BTreeMap;

/// How many staff accounts a shop uses, counted as its plan's `max_staff` counts
/// them when an owner invites someone: owners, staff and invitations neither
/// accepted, revoked nor expired (`counts.staff`). Without `tenant_id`, the total
/// over every shop (platform operators).
#[utoipa::path(
    tag = "operations",
    security(("bearer" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "`counts.staff`; `sales` is empty", body = Usage,
            example = json!({"tenant_id": "0193a7c4-1f00-7a3e-8b1d-2c4e6f8a0b11", "counts": {"staff": 3}, "sales": []})),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No shop with this id", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`tenant_id` is not a UUID", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/operations/auth/usage")]
pub async fn auth_usage(
    state: web::Data<AuthState>,
    _operator: Operator,
    query: web::Query<UsageQuery>,
) -> Result<web::Json<Usage>, ApiError> {
    let tenant = query.tenant()?;
    let seats = operations::per_shop(&state.context.db, tenant, async |shop| {
        store::staff_seats(shop).await
    })
    .await?;
    Ok(web::Json(Usage {
        tenant_id: tenant.map(TenantId::into_uuid),
        counts: BTreeMap::from([("staff".to_owned(), seats.iter().sum())]),
        sales: Vec::new(),
    }))
}
