//! What the derived OpenAPI schemas cannot say alone: choices taken from the
//! domain's own lists, a range with a hole, and bounds on the shared `Money`. Each
//! states what the route's checks accept, so a client (or a fuzzer) following the
//! document is not refused for a value the document allows.
//!
//! Free text elsewhere carries the pattern `^[^\x00]*$`: PostgreSQL cannot store
//! a NUL character, and the services answer 422 for one.

pub use caravan_shared::domain::money::money_at_least;
use serde_json::Value;
use utoipa::openapi::schema::{
    ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, SchemaFormat, SchemaType, Type,
};

/// A string that must be one of `values`, or `null` when `nullable`.
pub fn choice(description: &str, values: &[&str], nullable: bool) -> ObjectBuilder {
    let mut allowed: Vec<Value> = values.iter().map(|value| Value::from(*value)).collect();
    let schema_type = if nullable {
        allowed.push(Value::Null);
        SchemaType::from_iter([Type::String, Type::Null])
    } else {
        SchemaType::from(Type::String)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(description))
        .enum_values(Some(allowed))
}

fn int32(minimum: i32, maximum: i32) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int32)))
        .minimum(Some(minimum))
        .maximum(Some(maximum))
}

/// A 32-bit integer from `-limit` to `limit`, but not 0.
pub fn nonzero_int32(description: &str, limit: i32) -> OneOfBuilder {
    OneOfBuilder::new()
        .description(Some(description))
        .item(int32(-limit, -1))
        .item(int32(1, limit))
}

/// Prices of a variant: at least one, none below 0. That each currency appears
/// once is checked by the route; JSON Schema cannot say it of a property.
pub fn prices(description: &str, nullable: bool) -> ArrayBuilder {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::Array, Type::Null])
    } else {
        SchemaType::from(Type::Array)
    };
    ArrayBuilder::new()
        .schema_type(schema_type)
        .description(Some(description))
        .items(money_at_least("A price in minor units, 0 or more.", 0))
        .min_items(Some(1))
}
