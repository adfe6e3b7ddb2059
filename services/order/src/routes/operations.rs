//! What platform operators read of the orders: how much of their plans' monthly
//! order quota the shops use, and what they sold this month.

use super::OrderState;
use crate::domain::reporting::Window;
use crate::store::{self, StoredCurrency};
use crate::views::money;
use actix_web::{get, web};
use caravan_shared::error::Problem;
use caravan_shared::identity::Operator;
use caravan_shared::operations::{self, Usage, UsageQuery};
use caravan_shared::{ApiError, TenantId};
use chrono::Utc;
use std::collections::BTreeMap;

/// How many orders a shop took this month and what it sold, or the totals over
/// every shop without `tenant_id` (platform operators).
///
/// `counts.orders_this_month` counts orders as the plan's `max_orders_per_month`
/// does: every order placed since the start of the calendar month in UTC, whatever
/// became of it. `sales` is the net sales of this calendar month in China time
/// (UTC+8), one amount per currency, as `GET /v1/orders/summary` computes `net`: the
/// orders placed this month that were paid, less what was refunded of them.
#[utoipa::path(
    tag = "operations",
    security(("bearer" = [])),
    params(UsageQuery),
    responses(
        (status = 200, description = "`counts.orders_this_month` and this month's net `sales`", body = Usage),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No shop with this id", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "`tenant_id` is not a UUID", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/operations/order/usage")]
pub async fn order_usage(
    state: web::Data<OrderState>,
    _operator: Operator,
    query: web::Query<UsageQuery>,
) -> Result<web::Json<Usage>, ApiError> {
    let tenant = query.tenant()?;
    // No bounds asked: this calendar month (China time) up to now, as the summary's.
    let month = Window::parse(None, None, Utc::now())
        .map_err(|error| ApiError::internal(anyhow::anyhow!("this month: {}", error.message)))?;
    let shops = operations::per_shop(&state.context.db, tenant, async |shop| {
        let placed = store::orders_this_month(shop).await?;
        let sales = store::sales(shop, month.from(), month.to()).await?;
        Ok((placed, sales))
    })
    .await?;
    let mut placed = 0;
    let mut net: BTreeMap<StoredCurrency, i64> = BTreeMap::new();
    for (orders, sales) in shops {
        placed += orders;
        for row in sales {
            *net.entry(row.currency).or_default() += row.gross - row.refunded;
        }
    }
    Ok(web::Json(Usage {
        tenant_id: tenant.map(TenantId::into_uuid),
        counts: BTreeMap::from([("orders_this_month".to_owned(), placed)]),
        sales: net
            .into_iter()
            .map(|(currency, amount)| money(amount, currency))
            .collect(),
    }))
}
