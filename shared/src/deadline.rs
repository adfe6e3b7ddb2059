//! Deadlines passed along a call chain (README, "Slow is not down"): a caller says
//! how long it will wait in `Request-Timeout` (milliseconds), and the callee gives
//! up a little before that with 503 `busy` and `Retry-After`, while the caller still
//! listens, instead of working on for a caller that has gone.
//!
//! The gateway sets the header on every request it passes on; [`honour`] bounds a
//! service's handler by it and keeps the deadline for the rest of the request, so a
//! call the handler makes to another service ([`budget`]) passes on what is left.

use crate::error::{ApiError, BUSY_DETAIL};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use std::time::{Duration, Instant};

/// The header carrying how long the caller waits for the answer, in milliseconds.
pub const REQUEST_TIMEOUT_HEADER: &str = "request-timeout";

/// The longest wait a header may announce; a larger value is taken as this.
pub const MAX_REQUEST_TIMEOUT: Duration = Duration::from_secs(600);

tokio::task_local! {
    static DEADLINE: Instant;
}

/// Reads a `Request-Timeout` value: a whole number of milliseconds above zero
/// (capped at [`MAX_REQUEST_TIMEOUT`]); anything else is no deadline.
pub fn parse(value: &str) -> Option<Duration> {
    let millis: u64 = value.trim().parse().ok()?;
    (millis > 0).then(|| Duration::from_millis(millis).min(MAX_REQUEST_TIMEOUT))
}

/// The `Request-Timeout` value announcing `wait`.
pub fn header_value(wait: Duration) -> String {
    wait.as_millis().max(1).to_string()
}

/// How long a callee given `wait` works before it answers `busy`: a tenth less
/// (at least 100 ms less, never below 50 ms), so its answer reaches the caller in time.
pub fn own_share(wait: Duration) -> Duration {
    let margin = (wait / 10).max(Duration::from_millis(100));
    wait.saturating_sub(margin).max(Duration::from_millis(50))
}

/// What is left of the current request's deadline, when it has one.
pub fn remaining() -> Option<Duration> {
    DEADLINE
        .try_with(|deadline| deadline.saturating_duration_since(Instant::now()))
        .ok()
}

/// How long a call to another service may take: `own` (the caller's own timeout
/// for that call), or less when the current request's deadline is nearer.
pub fn budget(own: Duration) -> Duration {
    remaining().map_or(own, |left| left.min(own))
}

/// Runs `work` with a deadline `wait` from now, as [`honour`] does for a request.
pub async fn within<F: std::future::Future>(wait: Duration, work: F) -> Option<F::Output> {
    let deadline = Instant::now() + wait;
    tokio::time::timeout(wait, DEADLINE.scope(deadline, work))
        .await
        .ok()
}

/// Middleware: a request with `Request-Timeout` is answered within its
/// [`own_share`] of it — by the handler, or else by 503 `busy` with
/// `Retry-After: 1` (the handler is dropped: a transaction it holds rolls back, as
/// when the caller hangs up). Without the header, the request runs unbounded as
/// before (the pool's acquire timeout still sheds it when connections run out).
///
/// The busy answer is returned as an error, which the middleware around turns into
/// the response: the request itself has gone to the router (which must hold it
/// alone), so no response can be built from it here.
pub async fn honour(
    request: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let wait = request
        .headers()
        .get(REQUEST_TIMEOUT_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(parse);
    let Some(wait) = wait else {
        return next.call(request).await;
    };
    match within(own_share(wait), next.call(request)).await {
        Some(answered) => answered,
        None => {
            tracing::warn!(
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                "no answer within the caller's deadline; answered busy"
            );
            Err(ApiError::busy(BUSY_DETAIL).into())
        }
    }
}

/// How a service's OpenAPI document describes the 503 every operation can answer:
/// busy (a pool or a callee too slow for the deadline) or a dependency down, with
/// `Retry-After`.
pub fn documented_unavailable() -> utoipa::openapi::RefOr<utoipa::openapi::response::Response> {
    use utoipa::openapi::header::HeaderBuilder;
    use utoipa::openapi::{ContentBuilder, ObjectBuilder, Ref, RefOr, ResponseBuilder, Type};
    let problem = serde_json::json!({
        "type": "/problems/busy", "title": "Service busy", "status": 503,
        "code": "busy", "detail": BUSY_DETAIL,
    });
    RefOr::T(
        ResponseBuilder::new()
            .description(
                "Busy: the service, or one it needs, could not answer within the deadline \
                 (`Request-Timeout`) and did nothing (`code` `busy`); or a dependency is \
                 down (`service_unavailable`). Retry after `Retry-After` seconds",
            )
            .header(
                "Retry-After",
                HeaderBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::Integer)
                            .minimum(Some(1)),
                    ))
                    .description(Some("Seconds to wait before trying again"))
                    .example(Some(serde_json::json!(1)))
                    .build(),
            )
            .content(
                crate::error::PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(RefOr::Ref(Ref::from_schema_name("Problem"))))
                    .example(Some(problem))
                    .build(),
            )
            .build(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_is_whole_milliseconds() {
        assert_eq!(parse("1500"), Some(Duration::from_millis(1500)));
        assert_eq!(parse(" 20 "), Some(Duration::from_millis(20)));
        assert_eq!(parse("0"), None);
        assert_eq!(parse("-5"), None);
        assert_eq!(parse("1.5"), None);
        assert_eq!(parse("soon"), None);
        assert_eq!(parse("99999999999"), Some(MAX_REQUEST_TIMEOUT));
        assert_eq!(header_value(Duration::from_millis(4500)), "4500");
    }

    #[test]
    fn a_callee_keeps_a_margin_for_its_answer() {
        assert_eq!(
            own_share(Duration::from_secs(12)),
            Duration::from_millis(10_800)
        );
        assert_eq!(
            own_share(Duration::from_secs(5)),
            Duration::from_millis(4500)
        );
        assert_eq!(
            own_share(Duration::from_millis(500)),
            Duration::from_millis(400)
        );
        assert_eq!(
            own_share(Duration::from_millis(60)),
            Duration::from_millis(50)
        );
    }

    #[tokio::test]
    async fn calls_made_inside_a_deadline_pass_on_what_is_left() {
        assert_eq!(remaining(), None);
        assert_eq!(budget(Duration::from_secs(5)), Duration::from_secs(5));
        let inside = within(Duration::from_secs(2), async {
            budget(Duration::from_secs(5))
        })
        .await
        .unwrap();
        assert!(inside <= Duration::from_secs(2), "{inside:?}");
        assert!(inside > Duration::from_millis(1500), "{inside:?}");
        let late = within(Duration::from_millis(50), async {
            tokio::time::sleep(Duration::from_secs(1)).await;
        })
        .await;
        assert!(late.is_none());
    }
}
