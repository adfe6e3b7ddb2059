//! `Idempotency-Key` support backed by PostgreSQL.
//!
//! The key is claimed by inserting its row in the same transaction as the work, and the
//! answer is saved in that transaction too. A retry after a commit gets the first
//! answer; a concurrent retry blocks on the row until the first attempt ends; a retry
//! after a rollback does the work afresh; the same key with another body is refused.

use crate::error::ApiError;
use crate::error::ErrorCode;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::future::{Ready, ready};

/// The header name.
pub const HEADER: &str = "Idempotency-Key";

/// A valid `Idempotency-Key` header (1 to 255 visible ASCII characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Checks a raw header value.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let raw = raw.trim();
        if raw.is_empty() || raw.len() > 255 || !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ApiError::invalid_field(
                HEADER,
                "must be 1 to 255 visible ASCII characters",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The request's key, if it sent one; a header that is there but not a valid
    /// key is refused, never ignored.
    pub fn optional(request: &HttpRequest) -> Result<Option<Self>, ApiError> {
        match request.headers().get(HEADER).map(|value| value.to_str()) {
            None => Ok(None),
            Some(Err(_)) => Err(ApiError::invalid_field(
                HEADER,
                "must be visible ASCII characters",
            )),
            Some(Ok(raw)) => Self::parse(raw).map(Some),
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromRequest for IdempotencyKey {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::optional(request).and_then(|key| {
            key.ok_or_else(|| {
                ApiError::invalid_field(HEADER, "this operation requires an Idempotency-Key header")
            })
        }))
    }
}

/// A fingerprint of a request body, to tell a retry from another request.
pub fn fingerprint<T: serde::Serialize>(request: &T) -> String {
    // serde_json's map is ordered, so equal bodies give equal bytes.
    let canonical = serde_json::to_value(request)
        .and_then(|value| serde_json::to_vec(&value))
        .unwrap_or_default();
    crate::secrets::sha256_hex(&canonical)
}

/// What to do with a request carrying a key.
#[derive(Debug, Clone, PartialEq)]
pub enum Claim {
    /// First time: do the work, then [`save`] the answer in the same transaction.
    Fresh,
    /// Seen and answered before: answer the same again.
    Replay {
        /// The first answer's status.
        status: u16,
        /// The first answer's body.
        body: serde_json::Value,
    },
}

/// The answer to a replayed request: the first answer's status and body, as a
/// problem document when it was an error.
pub fn replay(status: u16, body: &serde_json::Value) -> actix_web::HttpResponse {
    let status =
        actix_web::http::StatusCode::from_u16(status).unwrap_or(actix_web::http::StatusCode::OK);
    let content_type = if status.is_client_error() || status.is_server_error() {
        crate::error::PROBLEM_JSON
    } else {
        "application/json"
    };
    actix_web::HttpResponse::build(status)
        .content_type(content_type)
        .body(body.to_string())
}

/// Claims `key` within `scope` (for example `tenant:<id>:checkout`) inside the
/// caller's transaction.
pub async fn claim<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    key: &IdempotencyKey,
    request_fingerprint: &str,
) -> Result<Claim, ApiError> {
    let inserted = conn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO idempotency_keys (scope, key, request_hash) VALUES ($1, $2, $3) \
             ON CONFLICT (scope, key) DO NOTHING RETURNING 1 AS claimed",
            [
                scope.into(),
                key.as_str().into(),
                request_fingerprint.into(),
            ],
        ))
        .await?;
    if inserted.is_some() {
        return Ok(Claim::Fresh);
    }
    answered(conn, scope, key, request_fingerprint)
        .await?
        .ok_or_else(|| {
            ApiError::conflict(ErrorCode::IdempotencyKeyInUse, "the key is in use; retry")
        })
}

/// What `key` within `scope` already answered, read without claiming it: a
/// [`Claim::Replay`], or `None` when the key was never claimed. A key claimed for
/// another request is 422, one whose request is still being processed 409.
pub async fn answered<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    key: &IdempotencyKey,
    request_fingerprint: &str,
) -> Result<Option<Claim>, ApiError> {
    let Some(row) = conn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT request_hash, response_status, response_body FROM idempotency_keys \
             WHERE scope = $1 AND key = $2",
            [scope.into(), key.as_str().into()],
        ))
        .await?
    else {
        return Ok(None);
    };
    let stored_hash: String = row.try_get("", "request_hash")?;
    if stored_hash != request_fingerprint {
        return Err(ApiError::invalid_field(
            HEADER,
            "was already used with a different request",
        ));
    }
    let status: Option<i16> = row.try_get("", "response_status")?;
    let body: Option<serde_json::Value> = row.try_get("", "response_body")?;
    match (status, body) {
        (Some(status), Some(body)) => Ok(Some(Claim::Replay {
            status: u16::try_from(status).unwrap_or(200),
            body,
        })),
        _ => Err(ApiError::conflict(
            ErrorCode::IdempotencyKeyInUse,
            "a request with this key is still being processed; retry shortly",
        )),
    }
}

/// Saves the answer to a [`Claim::Fresh`] key, in the transaction that did the work.
pub async fn save<C: ConnectionTrait>(
    conn: &C,
    scope: &str,
    key: &IdempotencyKey,
    status: u16,
    body: &serde_json::Value,
) -> Result<(), ApiError> {
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE idempotency_keys SET response_status = $3, response_body = $4 \
         WHERE scope = $1 AND key = $2",
        [
            scope.into(),
            key.as_str().into(),
            i16::try_from(status).unwrap_or(200).into(),
            body.clone().into(),
        ],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_checked() {
        assert!(IdempotencyKey::parse("order-7f3a").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }

    #[test]
    fn equal_bodies_have_equal_fingerprints() {
        let a = serde_json::json!({"cart_id": "c1", "email": "a@b.cn"});
        let b = serde_json::json!({"email": "a@b.cn", "cart_id": "c1"});
        let c = serde_json::json!({"email": "a@b.cn", "cart_id": "c2"});
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&c));
    }
}
