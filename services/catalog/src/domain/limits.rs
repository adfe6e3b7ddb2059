//! The catalog's bounds: how long each text a buyer sees may be (in characters, as
//! people count them, not bytes), how many items each list may hold, and the range
//! of every amount. Products created, changed, and imported from CSV all pass the
//! same checks (`check_product`, `check_variant`), and the request schemas state the
//! same numbers (the `*_schema` functions here), so the documented contract and
//! the service agree.
//!
//! The amounts are chosen so that no sum can overflow: a price of at most 10^10
//! minor units times the most units of one line (10^7, far above a cart's own
//! limit) is 10^17, and a cart of 100 such lines still fits an `i64` (about 9.2 ×
//! 10^18). Stock and weights stay far below `i32::MAX`, also after an adjustment.

use caravan_shared::FieldError;
use caravan_shared::domain::{LocalizedText, Money};
use utoipa::openapi::Ref;
use utoipa::openapi::schema::{
    AllOfBuilder, ArrayBuilder, KnownFormat, ObjectBuilder, OneOfBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};

/// A product's title, per language.
pub const MAX_TITLE: usize = 200;
/// A product's description, per language.
pub const MAX_DESCRIPTION: usize = 10_000;
/// A variant's title, a producer, per language.
pub const MAX_NAME: usize = 200;
/// A category's name, per language.
pub const MAX_CATEGORY_NAME: usize = 100;
/// Languages of one translatable text.
pub const MAX_LANGUAGES: usize = 10;
/// Province and place of origin.
pub const MAX_PLACE: usize = 100;
/// One tag.
pub const MAX_TAG: usize = 50;
/// Tags of a product.
pub const MAX_TAGS: usize = 30;
/// One certification.
pub const MAX_CERTIFICATION: usize = 100;
/// Certifications of a product.
pub const MAX_CERTIFICATIONS: usize = 20;
/// Images of a product.
pub const MAX_IMAGES: usize = 20;
/// An image's alternative text.
pub const MAX_ALT: usize = 300;
/// Categories of a product.
pub const MAX_PRODUCT_CATEGORIES: usize = 20;
/// Variants of a product.
pub const MAX_VARIANTS: usize = 100;
/// Prices (currencies) of a variant.
pub const MAX_PRICES: usize = 10;
/// Options of a variant.
pub const MAX_OPTIONS: usize = 10;
/// An option's name (`size`).
pub const MAX_OPTION_NAME: usize = 50;
/// An option's value (`5 kg box`).
pub const MAX_OPTION_VALUE: usize = 100;
/// The most minor units of a price or compare-at price (10^10: 100 million yuan).
pub const MAX_PRICE: i64 = 10_000_000_000;
/// The heaviest variant: a tonne.
pub const MAX_WEIGHT_GRAMS: i32 = 1_000_000;
/// The longest shelf life: ten years.
pub const MAX_SHELF_LIFE_DAYS: i32 = 3650;
/// A stock adjustment's note.
pub const MAX_NOTE: usize = 500;

/// Refuses `value` when it is longer than `max` characters.
pub fn check_text(value: &str, field: impl Into<String>, max: usize, errors: &mut Vec<FieldError>) {
    if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
}

/// Refuses a translatable text in more than [`MAX_LANGUAGES`] languages, or with a
/// language's text longer than `max` characters (named `field.<language>`).
pub fn check_localized(
    text: &LocalizedText,
    field: &str,
    max: usize,
    errors: &mut Vec<FieldError>,
) {
    if text.iter().count() > MAX_LANGUAGES {
        errors.push(FieldError::new(
            field,
            format!("must be in at most {MAX_LANGUAGES} languages"),
        ));
    }
    for (locale, value) in text.iter() {
        check_text(value, format!("{field}.{locale}"), max, errors);
    }
}

/// Refuses a list of more than `max_items` texts, or with one longer than `max`
/// characters (named `field[index]`).
pub fn check_texts(
    items: &[String],
    field: &str,
    max_items: usize,
    max: usize,
    errors: &mut Vec<FieldError>,
) {
    check_count(items.len(), field, max_items, errors);
    for (index, item) in items.iter().enumerate() {
        check_text(item, format!("{field}[{index}]"), max, errors);
    }
}

/// Refuses more than `max` items.
pub fn check_count(count: usize, field: &str, max: usize, errors: &mut Vec<FieldError>) {
    if count > max {
        errors.push(FieldError::new(
            field,
            format!("must have at most {max} items"),
        ));
    }
}

/// Refuses a price outside 1 to [`MAX_PRICE`] minor units.
pub fn check_price(price: &Money, field: &str, errors: &mut Vec<FieldError>) {
    if !(1..=MAX_PRICE).contains(&price.amount) {
        errors.push(FieldError::new(
            field,
            format!("must be 1 to {MAX_PRICE} minor units"),
        ));
    }
}

/// Refuses a whole number outside `min..=max`.
pub fn check_range(value: i32, field: &str, min: i32, max: i32, errors: &mut Vec<FieldError>) {
    if !(min..=max).contains(&value) {
        errors.push(FieldError::new(field, format!("must be {min} to {max}")));
    }
}

// The documented bounds. Each states exactly what the checks above accept.

fn localized_bounds(max: usize) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Object)
        .max_properties(Some(MAX_LANGUAGES))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(max)),
        ))
}

/// A translatable text of at most `max` characters per language.
pub fn localized_schema(description: &str, max: usize, nullable: bool) -> Schema {
    let bounded = AllOfBuilder::new()
        .item(Ref::from_schema_name("LocalizedText"))
        .item(localized_bounds(max));
    if nullable {
        OneOfBuilder::new()
            .description(Some(description))
            .item(bounded)
            .item(ObjectBuilder::new().schema_type(Type::Null))
            .into()
    } else {
        bounded.description(Some(description)).into()
    }
}

fn price_item(description: &str) -> AllOfBuilder {
    AllOfBuilder::new()
        .description(Some(description))
        .item(Ref::from_schema_name("Money"))
        .item(
            ObjectBuilder::new().property(
                "amount",
                ObjectBuilder::new()
                    .schema_type(Type::Integer)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
                    .minimum(Some(1))
                    .maximum(Some(MAX_PRICE)),
            ),
        )
}

/// A variant's prices: 1 to [`MAX_PRICES`], each 1 to [`MAX_PRICE`] minor units
/// (the catalog's price list schema, bounded). That each currency appears once is
/// checked by the route.
pub fn prices_schema(description: &str, nullable: bool) -> ArrayBuilder {
    crate::schemas::prices(description, nullable)
        .items(price_item(&format!(
            "A price in minor units, 1 to {MAX_PRICE}."
        )))
        .max_items(Some(MAX_PRICES))
}

/// A compare-at price: 1 to [`MAX_PRICE`] minor units, or null.
pub fn compare_at_schema(description: &str) -> OneOfBuilder {
    OneOfBuilder::new()
        .description(Some(description))
        .item(price_item(&format!(
            "A price in minor units, 1 to {MAX_PRICE}."
        )))
        .item(ObjectBuilder::new().schema_type(Type::Null))
}

/// A variant's options: at most [`MAX_OPTIONS`] names of 1 to [`MAX_OPTION_NAME`]
/// characters, each with a text of at most [`MAX_OPTION_VALUE`].
pub fn options_schema(description: &str, nullable: bool) -> ObjectBuilder {
    let schema_type = if nullable {
        SchemaType::from_iter([Type::Object, Type::Null])
    } else {
        SchemaType::from(Type::Object)
    };
    ObjectBuilder::new()
        .schema_type(schema_type)
        .description(Some(description))
        .max_properties(Some(MAX_OPTIONS))
        .property_names(Some(Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(MAX_OPTION_NAME))
                .build(),
        )))
        .additional_properties(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(MAX_OPTION_VALUE))
                .pattern(Some(r"^[^\x00]*$")),
        ))
}
