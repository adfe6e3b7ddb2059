//! What the derived OpenAPI schemas cannot say alone: bounds on the shared `Money`,
//! optional or not. Each states what the route's checks accept, so a client (or a
//! fuzzer) following the document is not refused for a value the document allows.
//!
//! Free text elsewhere carries the pattern `^[^\x00]*$`: PostgreSQL cannot store
//! a NUL character, and the services answer 422 for one.

pub use caravan_shared::domain::money::money_at_least;
use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Type};
use utoipa::openapi::{RefOr, Schema};

/// `schema`, or `null`.
pub fn or_null(schema: impl Into<RefOr<Schema>>) -> OneOfBuilder {
    OneOfBuilder::new()
        .item(schema)
        .item(ObjectBuilder::new().schema_type(Type::Null))
}
