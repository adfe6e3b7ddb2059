//! What platform operators read about a service (`/v1/operations/{service}/…`): how it
//! stands — its database, Redis, parked events and event relay — and, in the services
//! that own what a plan's quotas count, how much of it each shop uses.

use crate::domain::Money;
use crate::error::{ApiError, Problem};
use crate::identity::Operator;
use crate::service::ServiceContext;
use crate::tenancy::{PlatformTx, TenantId, TenantScope};
use actix_web::{get, web};
use prometheus::proto::MetricFamily;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// How a service instance stands, as its operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "service": "order", "database": "up", "redis": "up", "parked": 0,
    "relay": {"published": 18342, "backlog": 0, "lag_seconds_mean": 0.0042, "lag_seconds_p99": 0.025}
}))]
pub struct ServiceStatus {
    /// The service that answered: `auth`, `tenant`, `catalog` or `order`.
    #[schema(example = "order")]
    pub service: String,
    /// Whether its PostgreSQL database answers: `up` or `down`.
    #[schema(example = "up", pattern = "^(up|down)$")]
    pub database: String,
    /// Whether Redis answers: `up` or `down`.
    #[schema(example = "up", pattern = "^(up|down)$")]
    pub redis: String,
    /// Events this service parked (its handler kept failing on them) and has not
    /// handled since: what `GET /v1/operations/{service}/parked-events` lists. Null
    /// while the database is down.
    #[schema(example = 0, minimum = 0)]
    pub parked: Option<i64>,
    /// The event relay of the instance that answered.
    pub relay: RelayStatus,
}

/// How the instance's event relay publishes this service's events on Redis, since the
/// instance started (each replica counts its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"published": 18342, "backlog": 0, "lag_seconds_mean": 0.0042, "lag_seconds_p99": 0.025}))]
pub struct RelayStatus {
    /// Events published (`caravan_events_published_total`).
    #[schema(example = 18342, minimum = 0)]
    pub published: u64,
    /// Committed events not yet published, as the relay's last cycle found them
    /// (`caravan_events_relay_backlog`; at most one batch, 500). Another replica may
    /// hold the relay's lock meanwhile: then this one's stays as it last saw it.
    #[schema(example = 0, minimum = 0)]
    pub backlog: i64,
    /// Mean time from an event's state change to its publication, in seconds (from
    /// `caravan_events_relay_lag_seconds`); null until an event is published.
    #[schema(example = 0.0042, minimum = 0)]
    pub lag_seconds_mean: Option<f64>,
    /// The upper bound of the histogram bucket holding the 99th percentile of that
    /// time, in seconds (buckets from 0.001 to 30); null until an event is published,
    /// or when the 99th percentile is over the last bucket (more than 30 s).
    #[schema(example = 0.025, minimum = 0)]
    pub lag_seconds_p99: Option<f64>,
}

impl RelayStatus {
    /// The relay's figures from the metrics of one registry (its families named with
    /// the registry's `caravan_` prefix); zero and null where a metric is missing.
    pub fn from_metrics(families: &[MetricFamily]) -> Self {
        let family = |name: &str| {
            families
                .iter()
                .find(|family| family.name() == format!("caravan_{name}"))
                .and_then(|family| family.get_metric().first())
        };
        let published = family("events_published_total")
            .map_or(0, |metric| metric.get_counter().get_value().max(0.0) as u64);
        let backlog = family("events_relay_backlog")
            .map_or(0, |metric| metric.get_gauge().get_value() as i64);
        let (mean, p99) = family("events_relay_lag_seconds").map_or((None, None), |metric| {
            let histogram = metric.get_histogram();
            let count = histogram.get_sample_count();
            if count == 0 {
                return (None, None);
            }
            let mean = histogram.get_sample_sum() / count as f64;
            // The smallest bucket holding at least 99 % of the observations; the
            // buckets are cumulative and exclude +Inf (everything, `count`).
            let wanted = count.saturating_mul(99).div_ceil(100);
            let p99 = histogram
                .get_bucket()
                .iter()
                .find(|bucket| bucket.cumulative_count() >= wanted)
                .map(|bucket| bucket.upper_bound());
            (Some(mean), p99)
        });
        Self {
            published,
            backlog,
            lag_seconds_mean: mean,
            lag_seconds_p99: p99,
        }
    }
}

fn this_service(context: &ServiceContext, service: &str) -> Result<(), ApiError> {
    if context.settings.service.as_str() == service {
        Ok(())
    } else {
        Err(ApiError::not_found("no such service here"))
    }
}

fn word(up: bool) -> &'static str {
    if up { "up" } else { "down" }
}

/// Unresolved parked events, or `None` when the database cannot say.
async fn parked(db: &DatabaseConnection) -> Option<i64> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM parked_events WHERE resolved_at IS NULL",
        ))
        .await
        .ok()??;
    row.try_get("", "n").ok()
}

/// How this service stands: its database and Redis, the events it parked, and how its
/// event relay keeps up. Answers 200 whatever is down (a dependency that does not
/// answer within a few seconds reads `down`); the figures of the relay are those of
/// the instance that answered.
#[utoipa::path(
    tag = "operations",
    security(("bearer" = [])),
    params(("service" = String, Path, description = "This service's name (`auth`, `tenant`, `catalog`, `order`)", pattern = "^(auth|tenant|catalog|order)$")),
    responses(
        (status = 200, description = "The service's status", body = ServiceStatus),
        (status = 401, description = "No valid token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Another service's name", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/v1/operations/{service}/status")]
pub async fn status(
    context: web::Data<ServiceContext>,
    _operator: Operator,
    service: web::Path<String>,
) -> Result<web::Json<ServiceStatus>, ApiError> {
    this_service(&context, &service)?;
    let (database, redis) = tokio::join!(crate::db::ping(&context.db), context.redis.ping());
    let parked = if database {
        parked(&context.db).await
    } else {
        None
    };
    Ok(web::Json(ServiceStatus {
        service: context.settings.service.as_str().to_owned(),
        database: word(database).to_owned(),
        redis: word(redis).to_owned(),
        parked,
        relay: RelayStatus::from_metrics(&context.metrics.registry.gather()),
    }))
}

/// What shops use of what a plan's quotas count, as one service counts it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "tenant_id": "0193a7c4-1f00-7a3e-8b1d-2c4e6f8a0b11",
    "counts": {"orders_this_month": 47},
    "sales": [{"amount": 498700, "currency": "CNY"}, {"amount": 3750, "currency": "USD"}]
}))]
pub struct Usage {
    /// The shop counted; null for the totals over every shop.
    pub tenant_id: Option<Uuid>,
    /// The counts, by what is counted: `staff` (auth), `products` (catalog) or
    /// `orders_this_month` (order).
    #[schema(example = json!({"orders_this_month": 47}))]
    pub counts: BTreeMap<String, i64>,
    /// Net sales this calendar month, one amount per currency (order service only;
    /// empty elsewhere).
    pub sales: Vec<Money>,
}

/// Whose usage: one shop, or (without `tenant_id`) every shop.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageQuery {
    /// The shop's id.
    pub tenant_id: Option<String>,
}

impl UsageQuery {
    /// The shop asked about, if any; 422 naming `tenant_id` when it is no UUID.
    pub fn tenant(&self) -> Result<Option<TenantId>, ApiError> {
        self.tenant_id
            .as_deref()
            .map(|raw| {
                raw.trim()
                    .parse::<Uuid>()
                    .map(TenantId::from)
                    .map_err(|_| ApiError::invalid_field("tenant_id", "must be a UUID"))
            })
            .transpose()
    }
}

// By hand: the parameter is read as text (so a malformed one is answered naming it)
// but documented as the UUID it must be.
impl IntoParams for UsageQuery {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("tenant_id")
                .parameter_in(ParameterIn::Query)
                .required(utoipa::openapi::Required::False)
                .description(Some(
                    "The shop to count; without it, the totals over every shop.",
                ))
                .schema(Some(
                    ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Uuid))),
                ))
                .build(),
        ]
    }
}

/// Counts something for one shop or for every shop this service knows, each shop
/// in its own scope so that row-level security applies to the counting: `visit`
/// answers one shop's figures, and the answer is them for each shop counted. One shop
/// this service has never heard of answers 404.
///
/// The shops are those of the service's replica of the shops' status (every shop the
/// tenant service ever opened, whatever its status now), read in platform scope.
pub async fn per_shop<T>(
    db: &DatabaseConnection,
    tenant: Option<TenantId>,
    mut visit: impl AsyncFnMut(&TenantScope<'_>) -> Result<T, DbErr>,
) -> Result<Vec<T>, ApiError> {
    let tx = PlatformTx::begin(db, "operators read the usage of every shop").await?;
    let shops: Vec<TenantId> = tx
        .conn()
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT tenant_id FROM tenant_status WHERE $1::uuid IS NULL OR tenant_id = $1 \
             ORDER BY tenant_id",
            [tenant.map(TenantId::into_uuid).into()],
        ))
        .await?
        .iter()
        .map(|row| row.try_get::<Uuid>("", "tenant_id").map(TenantId::from))
        .collect::<Result<_, _>>()?;
    if tenant.is_some() && shops.is_empty() {
        return Err(ApiError::not_found("no such shop"));
    }
    let mut figures = Vec::with_capacity(shops.len());
    for shop in shops {
        // Entering a shop leaves platform scope: from here on each count sees that
        // shop's rows only.
        let scope = TenantScope::enter(tx.conn(), shop).await?;
        figures.push(visit(&scope).await?);
    }
    tx.commit().await?;
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus::{Histogram, HistogramOpts, IntCounter, IntGauge, Registry};

    fn relay_registry() -> (Registry, IntCounter, IntGauge, Histogram) {
        let registry = Registry::new_custom(Some("caravan".to_owned()), None).unwrap();
        let published = IntCounter::new("events_published_total", "published").unwrap();
        let backlog = IntGauge::new("events_relay_backlog", "backlog").unwrap();
        let lag = Histogram::with_opts(
            HistogramOpts::new("events_relay_lag_seconds", "lag")
                .buckets(vec![0.001, 0.01, 0.1, 1.0, 30.0]),
        )
        .unwrap();
        registry.register(Box::new(published.clone())).unwrap();
        registry.register(Box::new(backlog.clone())).unwrap();
        registry.register(Box::new(lag.clone())).unwrap();
        (registry, published, backlog, lag)
    }

    #[test]
    fn nothing_published_reads_zero_and_null() {
        let (registry, ..) = relay_registry();
        let relay = RelayStatus::from_metrics(&registry.gather());
        assert_eq!(
            relay,
            RelayStatus {
                published: 0,
                backlog: 0,
                lag_seconds_mean: None,
                lag_seconds_p99: None
            }
        );
        assert_eq!(
            RelayStatus::from_metrics(&[]),
            relay,
            "no relay metrics at all"
        );
    }

    #[test]
    fn the_mean_and_the_bucket_of_the_99th_percentile() {
        let (registry, published, backlog, lag) = relay_registry();
        published.inc_by(100);
        backlog.set(7);
        // 98 fast events, 2 slow ones: the 99th of 100 is a slow one.
        for _ in 0..98 {
            lag.observe(0.005);
        }
        lag.observe(0.5);
        lag.observe(0.5);
        let relay = RelayStatus::from_metrics(&registry.gather());
        assert_eq!(relay.published, 100);
        assert_eq!(relay.backlog, 7);
        let mean = relay.lag_seconds_mean.unwrap();
        assert!((mean - (98.0 * 0.005 + 1.0) / 100.0).abs() < 1e-9, "{mean}");
        assert_eq!(relay.lag_seconds_p99, Some(1.0));

        // 99 of 100 fast: the 99th percentile is in the fast bucket.
        let (registry, _, _, lag) = relay_registry();
        for _ in 0..99 {
            lag.observe(0.005);
        }
        lag.observe(0.5);
        let relay = RelayStatus::from_metrics(&registry.gather());
        assert_eq!(relay.lag_seconds_p99, Some(0.01));
    }

    #[test]
    fn a_percentile_beyond_the_last_bucket_is_null() {
        let (registry, _, _, lag) = relay_registry();
        lag.observe(60.0);
        let relay = RelayStatus::from_metrics(&registry.gather());
        assert_eq!(relay.lag_seconds_mean, Some(60.0));
        assert_eq!(relay.lag_seconds_p99, None);
    }

    #[test]
    fn a_malformed_tenant_id_names_the_parameter() {
        let query = UsageQuery {
            tenant_id: Some("not-a-uuid".to_owned()),
        };
        let error = query.tenant().unwrap_err();
        assert_eq!(error.problem().status, 422);
        assert_eq!(error.errors()[0].field, "tenant_id");
        assert_eq!(UsageQuery::default().tenant().unwrap(), None);
        let id = Uuid::now_v7();
        let query = UsageQuery {
            tenant_id: Some(id.to_string()),
        };
        assert_eq!(query.tenant().unwrap(), Some(TenantId::from(id)));
    }
}
