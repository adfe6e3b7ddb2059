//! Logs and request identity: JSON lines carrying the request id, the tenant and the
//! principal of the request they belong to.

use crate::config::LogFormat;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::{Span, Subscriber};
use tracing_actix_web::{DefaultRootSpanBuilder, RootSpanBuilder};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::Layer;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;

/// The header carrying a request's id, in and out.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being handled: the caller's `X-Request-Id` when it is
/// reasonable, otherwise a new UUIDv7.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

impl RequestId {
    fn from_header(value: Option<&HeaderValue>) -> Self {
        let given = value
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
            .filter(|value| {
                !value.is_empty()
                    && value.len() <= 128
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
            });
        match given {
            Some(value) => Self(value.to_owned()),
            None => Self(uuid::Uuid::now_v7().to_string()),
        }
    }
}

/// Middleware: takes or sets the request id and echoes it in the response.
pub async fn request_id(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = RequestId::from_header(request.headers().get(&REQUEST_ID_HEADER));
    request.extensions_mut().insert(id.clone());
    let mut response = next.call(request).await?;
    if let Ok(value) = HeaderValue::from_str(&id.0) {
        response
            .headers_mut()
            .insert(REQUEST_ID_HEADER.clone(), value);
    }
    Ok(response)
}

/// The root span of every request, with the fields every log line of it carries.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|id| id.0.clone())
            .unwrap_or_default();
        let route = request.match_pattern().unwrap_or_default();
        tracing::info_span!(
            "request",
            request_id = %request_id,
            http.method = %request.method(),
            http.route = %route,
            http.target = %request.uri().path(),
            http.status_code = tracing::field::Empty,
            tenant_id = tracing::field::Empty,
            principal = tracing::field::Empty,
            otel.status_code = tracing::field::Empty,
            exception.message = tracing::field::Empty,
            exception.details = tracing::field::Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        // One access line per request, inside its span so it carries the request id,
        // tenant and principal.
        let status = match outcome {
            Ok(response) => response.response().status().as_u16(),
            Err(error) => error.as_response_error().status_code().as_u16(),
        };
        span.in_scope(|| tracing::info!(http.status = status, "request answered"));
        DefaultRootSpanBuilder::on_request_end(span, outcome);
    }
}

/// Records the caller on the request's root span, so every later line names them.
pub fn record_caller(
    request: &actix_web::HttpRequest,
    tenant: Option<uuid::Uuid>,
    principal: &str,
) {
    if let Some(span) = request.extensions().get::<tracing_actix_web::RootSpan>() {
        if let Some(tenant) = tenant {
            span.record("tenant_id", tracing::field::display(tenant));
        }
        span.record("principal", principal);
    }
}

/// The JSON log layer: one object per line, with the fields of every enclosing span
/// (so each line of a request names its request id, tenant and principal).
pub fn json_layer<S, W>(writer: W) -> impl Layer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .with_writer(writer)
}

/// The log filter: `RUST_LOG`, or `info` with the database driver quieter.
pub fn filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn"))
}

/// Installs the global log subscriber.
pub fn init(format: LogFormat) {
    let registry = tracing_subscriber::registry().with(filter());
    // A second init (tests start many apps in one process) keeps the first.
    let _ = match format {
        LogFormat::Json => registry.with(json_layer(std::io::stdout)).try_init(),
        LogFormat::Pretty => registry.with(tracing_subscriber::fmt::layer()).try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reasonable_request_id_is_kept() {
        let id = RequestId::from_header(Some(&HeaderValue::from_static("abc-123")));
        assert_eq!(id.0, "abc-123");
    }

    #[test]
    fn an_unreasonable_request_id_is_replaced() {
        let long = "x".repeat(200);
        for value in [long.as_str(), "has space", ""] {
            let header = HeaderValue::from_str(value).unwrap();
            let id = RequestId::from_header(Some(&header));
            assert_ne!(id.0, value);
            assert!(uuid::Uuid::parse_str(&id.0).is_ok());
        }
    }
}
