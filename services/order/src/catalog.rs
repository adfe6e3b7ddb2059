//! The catalog, as the order service asks it over REST with its service token:
//! variants with prices and availability (cached briefly for carts, fresh for
//! checkout) and reservations of stock for orders.

use caravan_shared::TenantId;
use caravan_shared::deadline;
use caravan_shared::domain::{Currency, Money};
use caravan_shared::identity::service_token::ServiceTokens;
use caravan_shared::{ApiError, ErrorCode};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How long a cart may show a price it read from the catalog.
const CACHE_TTL: Duration = Duration::from_secs(5);

/// How long the order service waits for the catalog at most (less when the request
/// it serves has less time left, see [`caravan_shared::deadline`]). Longer than the
/// catalog's own wait for a database connection (`DATABASE_ACQUIRE_TIMEOUT_MS`, 5 s),
/// shorter than the gateway's wait for the order service (12 s): the catalog gives up
/// first, and this service still answers the buyer in time (README, "Slow is not
/// down").
pub const CATALOG_TIMEOUT: Duration = Duration::from_secs(8);

/// Below this much time left, the catalog is not asked at all: its answer could not
/// arrive in time.
const TOO_LATE: Duration = Duration::from_millis(20);

/// A variant as the catalog sells it.
#[derive(Debug, Clone, Deserialize)]
pub struct Sellable {
    pub variant_id: Uuid,
    pub product_id: Uuid,
    pub handle: String,
    pub product_title: serde_json::Value,
    pub product_status: String,
    #[serde(default)]
    pub image: Option<serde_json::Value>,
    pub sku: String,
    pub title: serde_json::Value,
    pub weight_grams: i32,
    pub prices: Vec<Money>,
    /// `None`: stock is not tracked.
    pub available: Option<i32>,
}

impl Sellable {
    /// The price in `currency`, if the variant is sold in it.
    pub fn price_in(&self, currency: caravan_shared::domain::Currency) -> Option<Money> {
        self.prices
            .iter()
            .find(|price| price.currency == currency)
            .copied()
    }
}

#[derive(Deserialize)]
struct Sellables {
    items: Vec<Sellable>,
}

/// A line the catalog could not hold.
#[derive(Debug, Clone, Deserialize)]
pub struct ShortLine {
    /// `lines[i]` of the request.
    pub field: String,
    /// How many were asked and are available.
    pub message: String,
}

/// What asking for a reservation came to.
#[derive(Debug)]
pub enum Reserved {
    /// Every line is held for the order.
    Held,
    /// Some lines are short; nothing is held.
    Short(Vec<ShortLine>),
}

/// What is wrong with buying `quantity` of a variant (`None`: gone) in `currency`,
/// if anything: what a cart shows and what checkout refuses.
pub fn line_problem(
    sellable: Option<&Sellable>,
    quantity: i32,
    currency: Currency,
) -> Option<&'static str> {
    let Some(sellable) = sellable else {
        return Some("unavailable");
    };
    if sellable.product_status != "active" {
        return Some("unavailable");
    }
    if sellable.price_in(currency).is_none() {
        return Some("not_sold_in_currency");
    }
    match sellable.available {
        Some(0) => Some("out_of_stock"),
        Some(available) if available < quantity => Some("insufficient_stock"),
        _ => None,
    }
}

/// The catalog did not answer in time or at all. Causes name the catalog's internal
/// address: they are logged, never answered.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    /// Nothing answers at its address (connection refused, no such host), or the
    /// exchange broke off: the catalog is down.
    #[error("the catalog could not be reached: {0:#}")]
    Unreachable(anyhow::Error),
    /// It is up but slow: it did not answer within the deadline, or it shed the
    /// request itself (503). Nothing was done; try again in `retry_after` seconds.
    #[error("the catalog is busy: {cause}")]
    Busy {
        /// Seconds until a retry is worth it.
        retry_after: u64,
        /// What happened (logged).
        cause: String,
    },
}

impl From<anyhow::Error> for Unavailable {
    fn from(error: anyhow::Error) -> Self {
        Self::Unreachable(error)
    }
}

impl Unavailable {
    /// A failed exchange: a timeout is a busy catalog, anything else an unreachable one.
    fn of(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            Self::Busy {
                retry_after: 1,
                cause: format!("no answer in time: {error}"),
            }
        } else {
            Self::Unreachable(error.into())
        }
    }

    /// The catalog's own 503: it shed the request; its `Retry-After` is kept.
    fn shed(response: &reqwest::Response) -> Self {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .unwrap_or(1)
            .clamp(1, 60);
        Self::Busy {
            retry_after,
            cause: "the catalog answered 503".to_owned(),
        }
    }
}

impl From<Unavailable> for ApiError {
    /// 503 saying what failed, not where: the cause is logged with the request's span.
    /// A slow catalog is `busy` ("try again in a moment"); only one that cannot be
    /// reached at all is "could not be reached".
    fn from(error: Unavailable) -> Self {
        match error {
            Unavailable::Unreachable(cause) => {
                tracing::warn!(
                    error.cause_chain = ?cause,
                    error.message = %format!("{cause:#}"),
                    "the catalog could not be reached"
                );
                ApiError::unavailable("the catalog could not be reached; try again shortly")
                    .with_retry_after(1)
            }
            Unavailable::Busy { retry_after, cause } => {
                tracing::warn!(error.message = %cause, "the catalog is busy");
                ApiError::busy("the catalog is busy; try again in a moment")
                    .with_retry_after(retry_after)
            }
        }
    }
}

#[derive(Serialize)]
struct LineBody {
    variant_id: Uuid,
    quantity: i32,
}

#[derive(Deserialize)]
struct ProblemBody {
    code: Option<ErrorCode>,
    #[serde(default)]
    errors: Vec<ShortLine>,
}

/// A client of the catalog service.
pub struct Catalog {
    http: reqwest::Client,
    base: String,
    tokens: Arc<ServiceTokens>,
    cache: Mutex<HashMap<(TenantId, Uuid), (Instant, Sellable)>>,
}

impl Catalog {
    /// A client of the catalog at `base`.
    pub fn new(base: &str, tokens: Arc<ServiceTokens>) -> anyhow::Result<Self> {
        Ok(Self {
            http: reqwest::Client::builder()
                .timeout(CATALOG_TIMEOUT)
                .build()?,
            base: base.trim_end_matches('/').to_owned(),
            tokens,
            cache: Mutex::new(HashMap::new()),
        })
    }

    /// Sends a request built by `build` with the service token, renewing the token
    /// once if the catalog refuses it. The request waits [`CATALOG_TIMEOUT`], or what
    /// is left of the current request's deadline if less, and tells the catalog so
    /// (`Request-Timeout`), which then gives up first. A 503 from the catalog is
    /// [`Unavailable::Busy`].
    async fn send<F>(&self, build: F) -> Result<reqwest::Response, Unavailable>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        for attempt in 0..2 {
            let token = self.tokens.bearer().await?;
            let wait = deadline::budget(CATALOG_TIMEOUT);
            if wait < TOO_LATE {
                return Err(Unavailable::Busy {
                    retry_after: 1,
                    cause: "no time left to ask the catalog".to_owned(),
                });
            }
            let response = build(&self.http)
                .bearer_auth(token)
                .timeout(wait)
                .header(
                    deadline::REQUEST_TIMEOUT_HEADER,
                    deadline::header_value(wait),
                )
                .send()
                .await
                .map_err(Unavailable::of)?;
            if response.status() == StatusCode::UNAUTHORIZED && attempt == 0 {
                self.tokens.forget().await;
                continue;
            }
            if response.status() == StatusCode::SERVICE_UNAVAILABLE {
                return Err(Unavailable::shed(&response));
            }
            return Ok(response);
        }
        Err(Unavailable::Unreachable(anyhow::anyhow!(
            "the service token was refused"
        )))
    }

    /// The variants of `tenant` with these ids (unknown ones are absent); `fresh`
    /// skips the cache.
    pub async fn variants(
        &self,
        tenant: TenantId,
        ids: &[Uuid],
        fresh: bool,
    ) -> Result<HashMap<Uuid, Sellable>, Unavailable> {
        let mut found = HashMap::new();
        let mut missing = Vec::new();
        if fresh {
            missing.extend_from_slice(ids);
        } else if let Ok(cache) = self.cache.lock() {
            for id in ids {
                match cache.get(&(tenant, *id)) {
                    Some((at, sellable)) if at.elapsed() < CACHE_TTL => {
                        found.insert(*id, sellable.clone());
                    }
                    _ => missing.push(*id),
                }
            }
        }
        if missing.is_empty() {
            return Ok(found);
        }
        let joined = missing
            .iter()
            .map(Uuid::to_string)
            .collect::<Vec<_>>()
            .join(",");
        // UUIDs and commas need no escaping in a query string.
        let url = format!(
            "{}/internal/v1/variants?tenant_id={tenant}&ids={joined}",
            self.base
        );
        let response = self.send(|http| http.get(&url)).await?;
        let answer: Sellables = response
            .error_for_status()
            .map_err(anyhow::Error::from)?
            .json()
            .await
            .map_err(Unavailable::of)?;
        let now = Instant::now();
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|_, (at, _)| at.elapsed() < CACHE_TTL);
            for sellable in &answer.items {
                cache.insert((tenant, sellable.variant_id), (now, sellable.clone()));
            }
        }
        found.extend(answer.items.into_iter().map(|s| (s.variant_id, s)));
        Ok(found)
    }

    /// Holds stock for every line of `order`, or for none. Safe to repeat.
    pub async fn reserve(
        &self,
        tenant: TenantId,
        order: Uuid,
        lines: &[(Uuid, i32)],
    ) -> Result<Reserved, Unavailable> {
        let body = serde_json::json!({
            "tenant_id": tenant.into_uuid(),
            "order_id": order,
            "lines": lines.iter().map(|(variant_id, quantity)| LineBody { variant_id: *variant_id, quantity: *quantity }).collect::<Vec<_>>(),
        });
        let url = format!("{}/internal/v1/reservations", self.base);
        let response = self.send(|http| http.post(&url).json(&body)).await?;
        match response.status() {
            StatusCode::CREATED => Ok(Reserved::Held),
            StatusCode::CONFLICT => {
                let problem: ProblemBody = response.json().await.map_err(Unavailable::of)?;
                if problem.code == Some(ErrorCode::InsufficientStock) {
                    Ok(Reserved::Short(problem.errors))
                } else {
                    Err(Unavailable::Unreachable(anyhow::anyhow!(
                        "reservation refused: {:?}",
                        problem.code
                    )))
                }
            }
            status => Err(Unavailable::Unreachable(anyhow::anyhow!(
                "reservation answered {status}"
            ))),
        }
    }

    /// Releases whatever is held for `order` (nothing held is fine).
    pub async fn release(&self, tenant: TenantId, order: Uuid) -> Result<(), Unavailable> {
        let url = format!("{}/internal/v1/reservations/{order}/release", self.base);
        let body = serde_json::json!({"tenant_id": tenant.into_uuid()});
        let response = self.send(|http| http.post(&url).json(&body)).await?;
        match response.status() {
            status if status.is_success() || status == StatusCode::NOT_FOUND => Ok(()),
            // Committed already: the order was paid, nothing to give back.
            StatusCode::CONFLICT => Ok(()),
            status => Err(Unavailable::Unreachable(anyhow::anyhow!(
                "release answered {status}"
            ))),
        }
    }
}
