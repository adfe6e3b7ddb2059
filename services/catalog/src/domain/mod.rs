//! The catalog's domain: products with produce data, variants with prices and stock,
//! parsed once at the edge into values that cannot be invalid.

use crate::schemas;
use caravan_shared::FieldError;
use caravan_shared::domain::{LocalizedText, Money};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder};

/// The most units any one stock figure, adjustment or order line may name.
pub const MAX_UNITS: i32 = 10_000_000;

/// A product's lifecycle.
pub const STATUSES: &[&str] = &["draft", "active", "archived"];
/// Units of sale.
pub const UNITS: &[&str] = &["kg", "g", "piece", "box"];
/// How produce is kept.
pub const STORAGE: &[&str] = &["ambient", "chilled", "frozen"];

/// Where produce comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"country": "CN", "province": "Ningxia", "place": "Zhongning county"}))]
pub struct Origin {
    /// ISO 3166-1 alpha-2 country, in capitals.
    #[schema(value_type = Option<caravan_shared::domain::CountryCode>)]
    pub country: Option<String>,
    /// Province or region.
    #[schema(pattern = r"^[^\x00]*$")]
    pub province: Option<String>,
    /// County, town or place.
    #[schema(pattern = r"^[^\x00]*$")]
    pub place: Option<String>,
}

/// A product image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"url": "https://cdn.zhongning-goji.cn/goji-500g.jpg", "alt": "Half a kilo of dried goji berries"}))]
pub struct Image {
    /// HTTPS URL, at most 1000 characters.
    #[schema(
        example = "https://cdn.zhongning-goji.cn/goji-500g.jpg",
        max_length = 1000,
        pattern = r"^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(:[0-9]{1,4})?([/?#][!-~]*)?$"
    )]
    pub url: String,
    /// Alternative text.
    #[schema(example = "Half a kilo of dried goji berries", pattern = r"^[^\x00]*$")]
    pub alt: Option<String>,
}

/// A variant as written by staff.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"sku": "GOJI-500G", "title": {"zh-CN": "500克", "en": "500 g"}, "options": {"size": "500 g bag"}, "unit": "piece", "weight_grams": 520, "prices": [{"amount": 6800, "currency": "CNY"}, {"amount": 950, "currency": "USD"}], "stock": 120, "low_stock_threshold": 10}))]
pub struct VariantInput {
    /// Unique in the shop: 1 to 64 of letters, digits, `-`, `_`, `.`.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub sku: String,
    /// Translatable variant name.
    pub title: Option<LocalizedText>,
    /// Option values, e.g. `{"size": "5 kg box"}`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: serde_json::Map<String, serde_json::Value>,
    /// `kg`, `g`, `piece` or `box`.
    #[schema(schema_with = unit_schema)]
    pub unit: String,
    /// Shipping weight.
    #[schema(minimum = 0)]
    pub weight_grams: i32,
    /// One price per currency; the first is the base price.
    #[schema(schema_with = prices_schema)]
    pub prices: Vec<Money>,
    /// Price before a discount, in the base currency.
    pub compare_at_price: Option<Money>,
    /// Whether stock is counted (default true).
    #[serde(default = "yes")]
    pub track_stock: bool,
    /// Stock on hand at creation (default 0).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 10000000)]
    pub stock: i32,
    /// `stock.low` is published when availability falls below this (default 0).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub low_stock_threshold: i32,
}

/// The documented `unit` of a variant.
fn unit_schema() -> ObjectBuilder {
    schemas::choice("`kg`, `g`, `piece` or `box`.", UNITS, false)
}

fn prices_schema() -> ArrayBuilder {
    schemas::prices(
        "One price per currency; the first is the base price.",
        false,
    )
}

fn yes() -> bool {
    true
}

/// Checks a handle or SKU-like code.
fn code(
    raw: &str,
    field: &str,
    max: usize,
    extra: &[u8],
    lowercase: bool,
) -> Result<String, FieldError> {
    let value = raw.trim();
    let allowed = value.bytes().all(|b| {
        b.is_ascii_digit()
            || extra.contains(&b)
            || if lowercase {
                b.is_ascii_lowercase()
            } else {
                b.is_ascii_alphabetic()
            }
    });
    if value.is_empty() || value.len() > max || !allowed {
        let letters = if lowercase { "a-z" } else { "letters" };
        return Err(FieldError::new(
            field,
            format!(
                "must be 1 to {max} of {letters}, digits and {}",
                String::from_utf8_lossy(extra)
            ),
        ));
    }
    Ok(value.to_owned())
}

/// Checks a product or category handle.
pub fn handle(raw: &str, field: &str) -> Result<String, FieldError> {
    code(raw, field, 100, b"-", true)
}

/// Checks a variant's fields; answers every problem, with paths under `prefix`.
pub fn check_variant(variant: &VariantInput, prefix: &str, errors: &mut Vec<FieldError>) {
    let at = |field: &str| format!("{prefix}.{field}");
    if let Err(error) = code(&variant.sku, &at("sku"), 64, b"-_.", false) {
        errors.push(error);
    }
    if !UNITS.contains(&variant.unit.as_str()) {
        errors.push(FieldError::new(at("unit"), "must be kg, g, piece or box"));
    }
    if variant.weight_grams < 0 {
        errors.push(FieldError::new(at("weight_grams"), "must be 0 or more"));
    }
    if variant.prices.is_empty() {
        errors.push(FieldError::new(
            at("prices"),
            "needs at least the base price",
        ));
    }
    for (index, price) in variant.prices.iter().enumerate() {
        if price.amount < 0 {
            errors.push(FieldError::new(
                format!("{prefix}.prices[{index}].amount"),
                "must be 0 or more",
            ));
        }
        if variant.prices[..index]
            .iter()
            .any(|p| p.currency == price.currency)
        {
            errors.push(FieldError::new(
                format!("{prefix}.prices[{index}].currency"),
                "is priced twice",
            ));
        }
    }
    if variant
        .compare_at_price
        .as_ref()
        .is_some_and(|compare| compare.amount < 0)
    {
        errors.push(FieldError::new(
            at("compare_at_price.amount"),
            "must be 0 or more",
        ));
    }
    if let (Some(compare), Some(base)) = (&variant.compare_at_price, variant.prices.first())
        && compare.currency != base.currency
    {
        errors.push(FieldError::new(
            at("compare_at_price"),
            "must be in the base currency",
        ));
    }
    if !(0..=MAX_UNITS).contains(&variant.stock) {
        errors.push(FieldError::new(
            at("stock"),
            format!("must be 0 to {MAX_UNITS}"),
        ));
    }
    if variant.low_stock_threshold < 0 {
        errors.push(FieldError::new(
            at("low_stock_threshold"),
            "must be 0 or more",
        ));
    }
}

/// Checks produce facts.
pub fn check_produce(
    harvest_months: &[i32],
    shelf_life_days: Option<i32>,
    storage: Option<&str>,
    origin: Option<&Origin>,
    images: &[Image],
    errors: &mut Vec<FieldError>,
) {
    if let Some((index, _)) = harvest_months
        .iter()
        .enumerate()
        .find(|(_, m)| !(1..=12).contains(*m))
    {
        errors.push(FieldError::new(
            format!("harvest_months[{index}]"),
            "must be a month, 1 to 12",
        ));
    }
    if shelf_life_days.is_some_and(|days| days <= 0) {
        errors.push(FieldError::new("shelf_life_days", "must be at least 1"));
    }
    if storage.is_some_and(|storage| !STORAGE.contains(&storage)) {
        errors.push(FieldError::new(
            "storage",
            "must be ambient, chilled or frozen",
        ));
    }
    if let Some(country) = origin.and_then(|origin| origin.country.as_deref()) {
        errors.extend(caravan_shared::domain::check_country_code(country, "origin.country").err());
    }
    for (index, image) in images.iter().enumerate() {
        if !caravan_shared::domain::web_address::is_https_url(&image.url) || image.url.len() > 1000
        {
            errors.push(FieldError::new(
                format!("images[{index}].url"),
                "must be an https:// URL with a host name, at most 1000 characters",
            ));
        }
    }
}

/// What search matches: every text of the product, lowercased.
pub fn search_text(
    handle: &str,
    title: Option<&LocalizedText>,
    description: Option<&LocalizedText>,
    tags: &[String],
    producer: Option<&str>,
) -> String {
    let mut parts: Vec<String> = vec![handle.to_owned()];
    if let Some(title) = title {
        parts.extend(title.iter().map(|(_, text)| text.to_owned()));
    }
    if let Some(description) = description {
        parts.extend(description.iter().map(|(_, text)| text.to_owned()));
    }
    parts.extend(tags.iter().cloned());
    parts.extend(producer.map(str::to_owned));
    parts.join(" \u{1f} ").to_lowercase()
}
