//! One error type for every service, rendered as RFC 9457 `application/problem+json`.
//!
//! A handler answers `Result<T, ApiError>`. What the caller did wrong carries a status,
//! a stable machine-readable `code` and, for validation, the fields at fault. What went
//! wrong inside is logged with its whole cause chain and answered as a bare 500 without
//! internals.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use std::fmt;
use utoipa::ToSchema;

/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Declares [`ErrorCode`] from one list: each variant with the code it answers as.
macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident = $code:literal,)*) => {
        /// Every problem's machine-readable `code`: one list for every service, so a
        /// client can match on them and the OpenAPI documents them as an enum.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
        #[serde(rename_all = "snake_case")]
        #[schema(example = "insufficient_stock")]
        pub enum ErrorCode {
            $($(#[$doc])* $variant,)*
        }

        impl ErrorCode {
            /// Every code, in the order declared.
            pub const ALL: &[ErrorCode] = &[$(Self::$variant),*];

            /// The code as it is answered, e.g. `invalid_status_change`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $code,)*
                }
            }
        }
    };
}

error_codes! {
    // --- the request itself ------------------------------------------------------
    /// The request could not be read (malformed JSON, a bad header).
    BadRequest = "bad_request",
    /// Well-formed input with invalid values; `errors` names the fields.
    ValidationFailed = "validation_failed",
    /// The body is larger than the operation takes.
    PayloadTooLarge = "payload_too_large",
    /// The body is not in a media type the operation reads.
    UnsupportedMediaType = "unsupported_media_type",
    /// The path exists, but not with this method.
    MethodNotAllowed = "method_not_allowed",
    /// Any other 4xx a framework answered.
    HttpError = "http_error",
    // --- who is asking -----------------------------------------------------------
    /// No valid credentials.
    Unauthorized = "unauthorized",
    /// The caller is known but may not do this.
    Forbidden = "forbidden",
    /// No such thing, or not the caller's to see.
    NotFound = "not_found",
    /// Too many requests; `Retry-After` says when to try again.
    TooManyRequests = "too_many_requests",
    /// The shop is suspended or closed: its staff and apps may not act for it.
    TenantSuspended = "tenant_suspended",
    /// The shop's plan allows no more of this.
    QuotaExceeded = "quota_exceeded",
    // --- state -------------------------------------------------------------------
    /// A status change the state machine does not allow from the current status.
    InvalidStatusChange = "invalid_status_change",
    /// The `Idempotency-Key` was used for a different request.
    IdempotencyKeyInUse = "idempotency_key_in_use",
    /// A shop address (slug) already taken; `choices` lists free ones.
    SlugTaken = "slug_taken",
    /// An email address already has an account.
    EmailTaken = "email_taken",
    /// A product handle already used in this shop.
    HandleTaken = "handle_taken",
    /// A SKU already used in this shop.
    SkuTaken = "sku_taken",
    /// A category that still has subcategories.
    CategoryHasSubcategories = "category_has_subcategories",
    /// A record that can no longer be deleted (it has history).
    NotDeletable = "not_deletable",
    /// Fewer units available than asked for.
    InsufficientStock = "insufficient_stock",
    /// A variant whose stock is not tracked.
    StockNotTracked = "stock_not_tracked",
    /// A reservation already committed or released.
    ReservationSettled = "reservation_settled",
    /// A reservation with this key is still being made.
    ReservationInProgress = "reservation_in_progress",
    /// A cart that has already been checked out.
    CartCheckedOut = "cart_checked_out",
    /// A cart with a line that can no longer be bought.
    CartNotPurchasable = "cart_not_purchasable",
    /// An order whose payment window has passed.
    OrderExpired = "order_expired",
    /// Another payment of the order is being made; read the order before paying again.
    PaymentInProgress = "payment_in_progress",
    /// A card authorisation already captured or voided.
    AuthorisationSettled = "authorisation_settled",
    /// A group deal that a group has opened on can no longer be edited.
    DealLocked = "deal_locked",
    /// A group deal that has not started, has ended, or was ended early.
    DealNotLive = "deal_not_live",
    /// A group deal with no units left for the quantity asked.
    DealSoldOut = "deal_sold_out",
    /// A pre-order campaign that takes no pre-orders now (closed, harvested, called
    /// off), or a harvest that cannot be announced or called off again.
    CampaignClosed = "campaign_closed",
    /// A harvest with fewer units left to pre-order than asked for.
    AllocationSoldOut = "allocation_sold_out",
    /// A group whose every place is taken (paid, or waiting for payment).
    GroupFull = "group_full",
    /// A group that has formed or failed: open a new one.
    GroupClosed = "group_closed",
    /// A webhook endpoint disabled after repeated failures.
    WebhookDisabled = "webhook_disabled",
    /// The account's email address is not verified yet.
    EmailNotVerified = "email_not_verified",
    /// The account is not a member of that shop.
    NotAMember = "not_a_member",
    /// A member may not remove themself.
    CannotRemoveSelf = "cannot_remove_self",
    /// The shop's last owner cannot be removed.
    LastOwner = "last_owner",
    /// The signing keys are configured from outside and cannot be rotated here.
    KeysConfigured = "keys_configured",
    /// A parked event's handler failed again.
    HandlerFailed = "handler_failed",
    // --- payments and the platform -----------------------------------------------
    /// The payment was declined; `detail` says how.
    PaymentDeclined = "payment_declined",
    /// A provider behind the API did not answer in time.
    UpstreamTimeout = "upstream_timeout",
    /// A dependency the request needs is unavailable.
    ServiceUnavailable = "service_unavailable",
    /// The service (or one it asked) is busy and shed the request before doing
    /// anything; `Retry-After` says when to try again.
    Busy = "busy",
    /// Something went wrong inside; it has been logged.
    InternalError = "internal_error",
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One invalid input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"field": "email", "message": "is not a valid email address"}))]
pub struct FieldError {
    /// Path of the field in the request, e.g. `variants[0].sku`, or a header or query
    /// parameter name.
    #[schema(example = "email")]
    pub field: String,
    /// Why the value was refused.
    #[schema(example = "is not a valid email address")]
    pub message: String,
}

impl FieldError {
    /// A field and the reason it was refused.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// The RFC 9457 body every error answers with.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "/problems/validation-failed", "title": "Validation failed", "status": 422,
    "detail": "1 field is invalid", "code": "validation_failed",
    "errors": [{"field": "email", "message": "is not a valid email address"}]
}))]
pub struct Problem {
    /// URI reference naming the kind of problem; stable, relative to the API's base.
    #[schema(example = "/problems/validation-failed")]
    #[serde(rename = "type")]
    pub kind: String,
    /// Short human summary of the kind of problem.
    #[schema(example = "Validation failed")]
    pub title: String,
    /// The HTTP status code.
    #[schema(example = 422)]
    pub status: u16,
    /// What happened in this occurrence.
    #[schema(example = "1 field is invalid")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable error code.
    pub code: ErrorCode,
    /// The fields at fault, for validation problems.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// The values the caller may choose from, when the problem is a choice the caller
    /// must make (for example the shops an account may log in to).
    #[schema(example = json!(["zhongning-goji", "turpan-raisins"]))]
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// What a caller may choose from (see [`ApiError::with_choices`]).
struct Choices(Vec<String>);

/// The error every handler returns.
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    title: &'static str,
    detail: Option<String>,
    errors: Vec<FieldError>,
    // Behind one thin pointer: most errors have none, and every handler's `Result`
    // carries this type (clippy's result_large_err stops at 128 bytes).
    choices: Option<Box<Choices>>,
    retry_after: Option<u64>,
    source: Option<anyhow::Error>,
}

impl ApiError {
    fn new(status: StatusCode, code: ErrorCode, title: &'static str) -> Self {
        Self {
            status,
            code,
            title,
            detail: None,
            errors: Vec::new(),
            choices: None,
            retry_after: None,
            source: None,
        }
    }

    /// Adds a human-readable explanation of this occurrence.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds a field at fault.
    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push(FieldError::new(field, message));
        self
    }

    /// Adds the values the caller may choose from, when the problem is a choice the
    /// caller must make (answered as `choices`).
    pub fn with_choices<I, S>(mut self, choices: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut all = self.choices.take().map(|all| all.0).unwrap_or_default();
        all.extend(choices.into_iter().map(Into::into));
        if !all.is_empty() {
            self.choices = Some(Box::new(Choices(all)));
        }
        self
    }

    /// 400: the request could not be read (malformed JSON, a bad header).
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            ErrorCode::BadRequest,
            "Bad request",
        )
        .with_detail(detail)
    }

    /// 401: no valid credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthorized,
            "Unauthorized",
        )
        .with_detail(detail)
    }

    /// 403: the caller is known but may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, "Forbidden").with_detail(detail)
    }

    /// 403 with a specific code, e.g. `quota_exceeded` or `tenant_suspended`.
    pub fn forbidden_because(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, "Forbidden").with_detail(detail)
    }

    /// 404: no such thing, or not the caller's to see (existence is not disclosed).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, "Not found").with_detail(detail)
    }

    /// 405: the path exists but not with this method.
    pub fn method_not_allowed() -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::MethodNotAllowed,
            "Method not allowed",
        )
        .with_detail("this method is not supported on this path")
    }

    /// 409: a conflict with the current state (duplicate, illegal state change).
    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "Conflict").with_detail(detail)
    }

    /// 413: the body is larger than allowed.
    pub fn payload_too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::PayloadTooLarge,
            "Payload too large",
        )
        .with_detail(format!("the request body is larger than {limit} bytes"))
    }

    /// 415: the body is not in a media type this operation reads.
    pub fn unsupported_media_type(expected: &str) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::UnsupportedMediaType,
            "Unsupported media type",
        )
        .with_detail(format!("the request body must be {expected}"))
    }

    /// 422: well-formed input with invalid values; add fields with [`Self::with_field`].
    pub fn validation(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::ValidationFailed,
            "Validation failed",
        )
        .with_detail(detail)
    }

    /// 422 for one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        let field = field.into();
        Self::validation(format!("{field} is invalid")).with_field(field, message)
    }

    /// 422 for several fields at once.
    pub fn invalid_fields(errors: Vec<FieldError>) -> Self {
        let detail = match errors.len() {
            1 => "1 field is invalid".to_owned(),
            n => format!("{n} fields are invalid"),
        };
        let mut error = Self::validation(detail);
        error.errors = errors;
        error
    }

    /// 429 with `Retry-After` in seconds.
    pub fn too_many_requests(retry_after_secs: u64) -> Self {
        let mut error = Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooManyRequests,
            "Too many requests",
        )
        .with_detail(format!("try again in {retry_after_secs} seconds"));
        error.retry_after = Some(retry_after_secs);
        error
    }

    /// 402: a payment was declined; `code` says how.
    pub fn payment_declined(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::PAYMENT_REQUIRED,
            ErrorCode::PaymentDeclined,
            "Payment declined",
        )
        .with_detail(detail)
    }

    /// 504: an upstream (a payment provider) did not answer in time.
    pub fn upstream_timeout(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::GATEWAY_TIMEOUT,
            ErrorCode::UpstreamTimeout,
            "Upstream timeout",
        )
        .with_detail(detail)
    }

    /// 503: a dependency the request needs is unavailable.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::ServiceUnavailable,
            "Service unavailable",
        )
        .with_detail(detail)
    }

    /// 503 `busy` with `Retry-After: 1`: the service (or one it needs) is too busy to
    /// take the request in time and did nothing; `detail` says who, e.g. "the catalog
    /// is busy; try again in a moment".
    pub fn busy(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Busy,
            "Service busy",
        )
        .with_detail(detail)
        .with_retry_after(1)
    }

    /// Answers with `Retry-After` in seconds (at least 1).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after = Some(seconds.max(1));
        self
    }

    /// The `Retry-After` this error answers with, in seconds.
    pub fn retry_after(&self) -> Option<u64> {
        self.retry_after
    }

    /// 500: something went wrong inside. The cause is logged, never answered.
    pub fn internal(source: impl Into<anyhow::Error>) -> Self {
        let mut error = Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::InternalError,
            "Internal server error",
        )
        .with_detail("the request could not be completed; it has been logged");
        error.source = Some(source.into());
        error
    }

    /// Any status, for the few places that map a framework error.
    pub fn from_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::not_found("no such resource"),
            StatusCode::METHOD_NOT_ALLOWED => Self::method_not_allowed(),
            StatusCode::PAYLOAD_TOO_LARGE => {
                Self::new(status, ErrorCode::PayloadTooLarge, "Payload too large")
                    .with_detail("the request body is too large")
            }
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Self::unsupported_media_type("application/json"),
            StatusCode::BAD_REQUEST => Self::bad_request("the request could not be read"),
            s if s.is_server_error() => Self::internal(anyhow::anyhow!("status {s}")),
            s => Self::new(
                s,
                ErrorCode::HttpError,
                s.canonical_reason().unwrap_or("Request failed"),
            ),
        }
    }

    /// The stable machine-readable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The fields at fault.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The values the caller may choose from.
    pub fn choices(&self) -> &[String] {
        self.choices.as_ref().map_or(&[], |all| all.0.as_slice())
    }

    /// The body this error answers with.
    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("/problems/{}", self.code.as_str().replace('_', "-")),
            title: self.title.to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
            choices: self.choices().to_vec(),
        }
    }
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.code)?;
        if let Some(detail) = &self.detail {
            write!(f, ": {detail}")?;
        }
        if let Some(source) = &self.source {
            write!(f, "\ncaused by: {source:?}")?;
        }
        Ok(())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.detail, &self.source) {
            (_, Some(source)) => write!(f, "{}: {source:#}", self.title),
            (Some(detail), None) => write!(f, "{}: {detail}", self.title),
            (None, None) => f.write_str(self.title),
        }
    }
}

impl std::error::Error for ApiError {}

/// What the service says when it has no database connection free in time.
pub const BUSY_DETAIL: &str = "the service is busy; try again in a moment";

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        // A pool that timed out under some context is still a busy service, not a fault.
        if crate::db::pool_timed_out(&error) {
            tracing::warn!(error = %format!("{error:#}"), "no database connection free in time");
            return Self::busy(BUSY_DETAIL);
        }
        let lost = error.chain().any(|cause| {
            cause
                .downcast_ref::<sea_orm::DbErr>()
                .is_some_and(database_lost)
                || cause
                    .downcast_ref::<sea_orm::sqlx::Error>()
                    .is_some_and(sqlx_lost)
        });
        if lost {
            tracing::warn!(error = %format!("{error:#}"), "the database connection was lost");
            return Self::database_unavailable();
        }
        Self::internal(error)
    }
}

impl ApiError {
    /// 503 with `Retry-After: 1`: the database went away under the request.
    fn database_unavailable() -> Self {
        Self::unavailable("the database cannot be reached; try again shortly").with_retry_after(1)
    }
}

/// Whether the database went away under the request (a restart, a failover, a
/// dropped connection): a retry a moment later gets past it, so the answer is 503,
/// not a fault of the service.
fn database_lost(error: &sea_orm::DbErr) -> bool {
    use sea_orm::{DbErr, RuntimeErr};
    match error {
        DbErr::Conn(RuntimeErr::SqlxError(error))
        | DbErr::Exec(RuntimeErr::SqlxError(error))
        | DbErr::Query(RuntimeErr::SqlxError(error)) => sqlx_lost(error),
        _ => false,
    }
}

fn sqlx_lost(error: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match error {
        Error::Io(_) | Error::PoolClosed | Error::WorkerCrashed => true,
        // 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, and
        // class 08, connection exceptions.
        Error::Database(database) => database.code().is_some_and(|code| {
            matches!(&*code, "57P01" | "57P02" | "57P03") || code.starts_with("08")
        }),
        _ => false,
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        // Text PostgreSQL cannot store (a NUL character) is the caller's doing.
        let message = error.to_string();
        if message.contains("invalid byte sequence for encoding")
            || message.contains("unsupported Unicode escape sequence")
        {
            return Self::validation("text must not contain NUL characters")
                .with_field("body", "contains a NUL character");
        }
        // sqlx's `PoolTimedOut` (no connection free within `DATABASE_ACQUIRE_TIMEOUT_MS`)
        // arrives as `ConnectionAcquire(Timeout)`: shed the request, do not fail it.
        match &error {
            sea_orm::DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout) => {
                tracing::warn!(%error, "no database connection free in time");
                return Self::busy(BUSY_DETAIL);
            }
            sea_orm::DbErr::ConnectionAcquire(_) => {
                tracing::warn!(%error, "the database pool is closed");
                return Self::database_unavailable();
            }
            _ if database_lost(&error) => {
                tracing::warn!(%error, "the database connection was lost");
                return Self::database_unavailable();
            }
            _ => {}
        }
        Self::internal(error)
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        if let Some(source) = &self.source {
            // The request span carries the request id, tenant and principal.
            tracing::error!(error.cause_chain = ?source, error.message = %source, "request failed");
        }
        let mut response = HttpResponse::build(self.status);
        response.insert_header((header::CONTENT_TYPE, PROBLEM_JSON));
        if let Some(seconds) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        let body = serde_json::to_string(&self.problem()).unwrap_or_else(|_| {
            r#"{"type":"/problems/internal-error","title":"Internal server error","status":500,"code":"internal_error"}"#.to_owned()
        });
        response.body(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::MessageBody;

    #[test]
    fn every_code_is_answered_as_it_is_named() {
        for code in ErrorCode::ALL {
            let answered = serde_json::to_value(code).unwrap();
            assert_eq!(answered, code.as_str());
            let read: ErrorCode = serde_json::from_value(answered).unwrap();
            assert_eq!(read, *code);
        }
        let problem = ApiError::conflict(ErrorCode::InvalidStatusChange, "no").problem();
        assert_eq!(problem.kind, "/problems/invalid-status-change");
    }

    fn body_of(error: &ApiError) -> serde_json::Value {
        let response = error.error_response();
        let bytes = response.into_body().try_into_bytes().unwrap_or_default();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn validation_problem_names_the_fields() {
        let error = ApiError::invalid_fields(vec![
            FieldError::new("email", "is not a valid email address"),
            FieldError::new("slug", "must be 3 to 40 characters"),
        ]);
        let body = body_of(&error);
        assert_eq!(body["status"], 422);
        assert_eq!(body["type"], "/problems/validation-failed");
        assert_eq!(body["code"], "validation_failed");
        assert_eq!(body["detail"], "2 fields are invalid");
        assert_eq!(body["errors"][1]["field"], "slug");
    }

    #[test]
    fn a_choice_lists_what_may_be_chosen_and_other_problems_do_not() {
        let error = ApiError::invalid_field("tenant", "choose one")
            .with_choices(["zhongning-goji", "turpan-raisins"]);
        let body = body_of(&error);
        assert_eq!(body["choices"][1], "turpan-raisins");
        assert_eq!(body["errors"][0]["field"], "tenant");
        let plain = body_of(&ApiError::not_found("no such thing"));
        assert!(plain.get("choices").is_none(), "{plain}");
        let read: Problem = serde_json::from_value(plain).unwrap();
        assert!(read.choices.is_empty());
    }

    #[test]
    fn an_error_stays_small_enough_to_return_by_value() {
        // clippy's result_large_err refuses an `Err` of 128 bytes or more.
        assert!(std::mem::size_of::<ApiError>() < 128);
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let error = ApiError::internal(anyhow::anyhow!("relation \"secret_table\" does not exist"));
        let response = error.error_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
        let text = body_of(&error).to_string();
        assert!(!text.contains("secret_table"), "{text}");
    }

    #[test]
    fn a_pool_that_timed_out_is_busy_not_broken() {
        use sea_orm::{DbErr, error::ConnAcquireErr};
        let direct = ApiError::from(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout));
        let wrapped = ApiError::from(
            anyhow::Error::from(DbErr::ConnectionAcquire(ConnAcquireErr::Timeout))
                .context("reading the products"),
        );
        for error in [direct, wrapped] {
            let response = error.error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
            let body = body_of(&error);
            assert_eq!(body["code"], "busy");
            assert_eq!(body["detail"], BUSY_DETAIL);
        }
        let other = ApiError::from(anyhow::Error::from(DbErr::Custom("boom".to_owned())));
        assert_eq!(other.code(), ErrorCode::InternalError);
    }

    #[test]
    fn a_database_that_went_away_is_unavailable_not_broken() {
        use sea_orm::{DbErr, RuntimeErr, sqlx};
        let reset = || {
            RuntimeErr::SqlxError(std::sync::Arc::new(sqlx::Error::Io(std::io::Error::from(
                std::io::ErrorKind::ConnectionReset,
            ))))
        };
        let direct = ApiError::from(DbErr::Query(reset()));
        let wrapped = ApiError::from(
            anyhow::Error::from(DbErr::Exec(reset())).context("adding the cart line"),
        );
        let closed = ApiError::from(anyhow::Error::from(sqlx::Error::PoolClosed));
        for error in [direct, wrapped, closed] {
            let response = error.error_response();
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
            assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "1");
            assert_eq!(body_of(&error)["code"], "service_unavailable");
        }
        let refused = ApiError::from(DbErr::Query(RuntimeErr::SqlxError(std::sync::Arc::new(
            sqlx::Error::RowNotFound,
        ))));
        assert_eq!(refused.code(), ErrorCode::InternalError);
    }

    #[test]
    fn too_many_requests_says_when_to_retry() {
        let response = ApiError::too_many_requests(30).error_response();
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(response.headers().get(header::RETRY_AFTER).unwrap(), "30");
    }
}
