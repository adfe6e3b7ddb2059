//! Platform operators adding operators.

use super::AuthState;
use crate::domain::password::NewPassword;
use crate::startup::ensure_operator;
use actix_web::{HttpResponse, post, web};
use caravan_shared::ApiError;
use caravan_shared::error::Problem;
use caravan_shared::http::Json;
use caravan_shared::identity::Operator;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa::openapi::schema::Object;

/// A new platform operator.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"email": "ops@caravan.example.cn", "password": "kunlun-snowline-2026"}))]
pub struct NewOperator {
    /// Their email; an existing account becomes an operator (its password stays).
    #[schema(value_type = caravan_shared::domain::Email)]
    pub email: String,
    /// The password for a new account (the password policy applies: 10 to 256
    /// characters, not a common password; checked for an existing account too).
    #[schema(schema_with = operator_password_schema)]
    pub password: String,
}

fn operator_password_schema() -> Object {
    NewPassword::schema()
        .description(Some(
            "The password for a new account: 10 to 256 characters, not a common password \
             (checked for an existing account too, though it keeps its own).",
        ))
        .build()
}

/// Makes another platform operator. Operators only.
#[utoipa::path(
    tag = "operators",
    security(("bearer" = [])),
    request_body = NewOperator,
    responses(
        (status = 204, description = "The account is an operator"),
        (status = 403, description = "Not a platform operator", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid email or weak password", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/v1/auth/operators")]
pub async fn create(
    state: web::Data<AuthState>,
    operator: Operator,
    body: Json<NewOperator>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    ensure_operator(
        &state.context.db,
        &state.hashing,
        &body.email,
        &body.password,
    )
    .await
    .map_err(|error| {
        let message = format!("{error:#}");
        let field = if message.contains("PASSWORD") {
            "password"
        } else {
            "email"
        };
        ApiError::invalid_field(
            field,
            message.split(": ").skip(1).collect::<Vec<_>>().join(": "),
        )
    })?;
    tracing::info!(by = %operator.0.describe(), "platform operator added");
    Ok(HttpResponse::NoContent().finish())
}
