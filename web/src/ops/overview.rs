//! The console's first page: what waits (pending applications), the shops by
//! status, this month's orders and sales across the platform, and each service's
//! state — readiness, event relay lag and backlog, parked events.

use super::Console;
use crate::page::{Frame, PageError};
use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use caravan_client::{Money, Page, SERVICES, ServiceStatus, Tenant, TenantQuery};

/// A count from one page of a list: exact, or "at least" when more pages follow.
fn counted<T>(page: &Page<T>) -> String {
    if page.next_cursor.is_some() {
        format!("{}+", page.items.len())
    } else {
        page.items.len().to_string()
    }
}

/// One service's row.
struct ServiceRow {
    name: &'static str,
    /// `up`, `down` or `unknown` (the service did not answer).
    database: String,
    redis: String,
    ready: bool,
    parked: String,
    lag: String,
    backlog: String,
}

impl ServiceRow {
    fn of(name: &'static str, status: Option<ServiceStatus>) -> Self {
        match status {
            Some(status) => Self {
                name,
                ready: status.database == "up" && status.redis == "up",
                database: status.database,
                redis: status.redis,
                parked: status.parked.map(|n| n.to_string()).unwrap_or_default(),
                lag: match (status.relay.lag_seconds_mean, status.relay.lag_seconds_p99) {
                    (Some(mean), Some(p99)) => {
                        format!("{:.0} ms / {:.0} ms", mean * 1000.0, p99 * 1000.0)
                    }
                    (Some(mean), None) => format!("{:.0} ms", mean * 1000.0),
                    _ => "—".to_owned(),
                },
                backlog: status.relay.backlog.to_string(),
            },
            None => Self {
                name,
                ready: false,
                database: "unknown".to_owned(),
                redis: "unknown".to_owned(),
                parked: String::new(),
                lag: "—".to_owned(),
                backlog: String::new(),
            },
        }
    }
}

#[derive(Template)]
#[template(path = "ops/overview.html")]
struct OverviewPage {
    page: Frame,
    pending: String,
    shops: Vec<(&'static str, String)>,
    orders: i64,
    sales: Vec<Money>,
    services: Vec<ServiceRow>,
}

/// `GET /ops`.
pub async fn show(mut console: Console) -> Result<HttpResponse, PageError> {
    let caller = console.caller();
    let api = console.api();
    let by_status = |status: &str| TenantQuery {
        status: Some(status.to_owned()),
        limit: 100,
        ..TenantQuery::default()
    };
    let (active, suspended, closed) = (
        by_status("active"),
        by_status("suspended"),
        by_status("closed"),
    );
    let (pending, active, suspended, closed, usage, statuses) = futures_util::join!(
        api.applications(caller, Some("pending"), None),
        api.tenants(caller, &active),
        api.tenants(caller, &suspended),
        api.tenants(caller, &closed),
        api.usage(caller, "order", None),
        futures_util::future::join_all(
            SERVICES.map(|service| async move { api.service_status(caller, service).await.ok() })
        ),
    );
    let pending = pending.map_err(|failure| console.failed(&failure))?;
    let shops: Vec<(&'static str, Page<Tenant>)> = vec![
        (
            "active",
            active.map_err(|failure| console.failed(&failure))?,
        ),
        (
            "suspended",
            suspended.map_err(|failure| console.failed(&failure))?,
        ),
        (
            "closed",
            closed.map_err(|failure| console.failed(&failure))?,
        ),
    ];
    // The order service down must not hide the rest of the page.
    let usage = usage.unwrap_or_default();
    let page = OverviewPage {
        page: console.frame(console.t("ops-overview"), "overview"),
        pending: counted(&pending),
        shops: shops
            .iter()
            .map(|(status, page)| (*status, counted(page)))
            .collect(),
        orders: usage.counts.get("orders_this_month").copied().unwrap_or(0),
        sales: usage.sales,
        services: SERVICES
            .into_iter()
            .zip(statuses)
            .map(|(name, status)| ServiceRow::of(name, status))
            .collect(),
    };
    Ok(console.send(StatusCode::OK, &page).await)
}
