//! The catalog's domain: products with produce data, variants with prices and stock,
//! parsed once at the edge into values that cannot be invalid.

pub mod changes;
pub mod limits;
pub mod media;
pub mod status;

pub use changes::{ProductChange, VariantChange, changed_status};
pub use status::{ProductStatus, ReservationStatus};

use crate::schemas;
use caravan_shared::FieldError;
use caravan_shared::domain::{LocalizedText, Money};
use limits::{
    MAX_ALT, MAX_CERTIFICATION, MAX_CERTIFICATIONS, MAX_DESCRIPTION, MAX_IMAGES, MAX_NAME,
    MAX_OPTION_NAME, MAX_OPTION_VALUE, MAX_OPTIONS, MAX_PLACE, MAX_PRICES, MAX_PRODUCT_CATEGORIES,
    MAX_SHELF_LIFE_DAYS, MAX_TAG, MAX_TAGS, MAX_TITLE, MAX_VARIANTS, MAX_WEIGHT_GRAMS, check_count,
    check_localized, check_price, check_range, check_text, check_texts,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema};
use uuid::Uuid;

/// The most units any one stock figure, adjustment or order line may name.
pub const MAX_UNITS: i32 = 10_000_000;

/// A product's lifecycle: the names of [`ProductStatus`], for schemas and messages.
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
    /// Province or region, at most 100 characters.
    #[schema(max_length = 100, pattern = r"^[^\x00]*$")]
    pub province: Option<String>,
    /// County, town or place, at most 100 characters.
    #[schema(max_length = 100, pattern = r"^[^\x00]*$")]
    pub place: Option<String>,
}

/// A product image as written: a URL of the shop's own host, or a photo uploaded
/// with `POST /v1/media` (exactly one of `url` and `media_id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"media_id": "5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a", "alt": "Half a kilo of dried goji berries"}))]
pub struct Image {
    /// HTTPS URL, at most 1000 characters (or give `media_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        example = "https://cdn.zhongning-goji.cn/goji-500g.jpg",
        max_length = 1000,
        pattern = r"^https://[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(:[0-9]{1,4})?([/?#][!-~]*)?$"
    )]
    pub url: Option<String>,
    /// A photo this shop uploaded (`id` of `POST /v1/media`), or give `url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<Uuid>,
    /// Alternative text, at most 300 characters.
    #[schema(
        example = "Half a kilo of dried goji berries",
        max_length = 300,
        pattern = r"^[^\x00]*$"
    )]
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
    /// Translatable variant name, at most 200 characters per language.
    #[schema(schema_with = variant_title_schema)]
    pub title: Option<LocalizedText>,
    /// Option values, e.g. `{"size": "5 kg box"}`.
    #[serde(default)]
    #[schema(schema_with = options_schema)]
    pub options: serde_json::Map<String, serde_json::Value>,
    /// `kg`, `g`, `piece` or `box`.
    #[schema(schema_with = unit_schema)]
    pub unit: String,
    /// Shipping weight, 0 to 1000000 grams.
    #[schema(minimum = 0, maximum = 1000000)]
    pub weight_grams: i32,
    /// One price per currency; the first is the base price.
    #[schema(schema_with = prices_schema)]
    pub prices: Vec<Money>,
    /// Price before a discount, in the base currency.
    #[schema(schema_with = compare_at_schema)]
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
    #[schema(minimum = 0, maximum = 10000000)]
    pub low_stock_threshold: i32,
}

/// The documented `unit` of a variant.
fn unit_schema() -> ObjectBuilder {
    schemas::choice("`kg`, `g`, `piece` or `box`.", UNITS, false)
}

fn prices_schema() -> ArrayBuilder {
    limits::prices_schema(
        "One price per currency (at most 10); the first is the base price.",
        false,
    )
}

fn compare_at_schema() -> OneOfBuilder {
    limits::compare_at_schema("Price before a discount, in the base currency.")
}

fn variant_title_schema() -> Schema {
    limits::localized_schema(
        "Translatable variant name, at most 200 characters per language.",
        MAX_NAME,
        true,
    )
}

fn options_schema() -> ObjectBuilder {
    limits::options_schema(
        "Option values, e.g. `{\"size\": \"5 kg box\"}`: at most 10, names up to 50 characters, values texts up to 100.",
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
    if let Some(title) = &variant.title {
        check_localized(title, &at("title"), MAX_NAME, errors);
    }
    check_options(&variant.options, &at("options"), errors);
    if !UNITS.contains(&variant.unit.as_str()) {
        errors.push(FieldError::new(at("unit"), "must be kg, g, piece or box"));
    }
    check_range(
        variant.weight_grams,
        &at("weight_grams"),
        0,
        MAX_WEIGHT_GRAMS,
        errors,
    );
    if variant.prices.is_empty() {
        errors.push(FieldError::new(
            at("prices"),
            "needs at least the base price",
        ));
    }
    check_count(variant.prices.len(), &at("prices"), MAX_PRICES, errors);
    for (index, price) in variant.prices.iter().enumerate() {
        check_price(price, &format!("{prefix}.prices[{index}].amount"), errors);
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
    if let Some(compare) = &variant.compare_at_price {
        check_price(compare, &at("compare_at_price.amount"), errors);
    }
    if let (Some(compare), Some(base)) = (&variant.compare_at_price, variant.prices.first())
        && compare.currency != base.currency
    {
        errors.push(FieldError::new(
            at("compare_at_price"),
            "must be in the base currency",
        ));
    }
    check_range(variant.stock, &at("stock"), 0, MAX_UNITS, errors);
    check_range(
        variant.low_stock_threshold,
        &at("low_stock_threshold"),
        0,
        MAX_UNITS,
        errors,
    );
}

/// Checks a variant's options: a few named texts.
fn check_options(
    options: &serde_json::Map<String, serde_json::Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) {
    check_count(options.len(), field, MAX_OPTIONS, errors);
    for (name, value) in options {
        if name.is_empty() || name.chars().count() > MAX_OPTION_NAME {
            errors.push(FieldError::new(
                field,
                format!("option names must be 1 to {MAX_OPTION_NAME} characters"),
            ));
        }
        match value {
            serde_json::Value::String(text) => {
                check_text(text, format!("{field}.{name}"), MAX_OPTION_VALUE, errors);
            }
            _ => errors.push(FieldError::new(format!("{field}.{name}"), "must be a text")),
        }
    }
}

/// A new product with its variants.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "handle": "ningxia-goji-dried", "status": "active",
    "title": {"zh-CN": "宁夏中宁枸杞", "en": "Ningxia goji berries, dried", "ug": "نىڭشيا لەڭزە"},
    "description": {"zh-CN": "中宁县头茬枸杞，自然晾晒。", "en": "First-harvest berries from Zhongning, sun-dried."},
    "tags": ["goji", "dried-fruit"], "origin": {"country": "CN", "province": "Ningxia", "place": "Zhongning county"},
    "producer": "Zhongning Goji Cooperative", "harvest_months": [6, 7, 8], "shelf_life_days": 365,
    "storage": "ambient", "certifications": ["organic", "GI: Ningxia goji"],
    "variants": [{"sku": "GOJI-500G", "unit": "piece", "weight_grams": 520, "prices": [{"amount": 6800, "currency": "CNY"}], "stock": 120}]
}))]
pub struct ProductRequest {
    /// Unique in the shop: 1 to 100 of a-z, 0-9 and -.
    #[schema(pattern = "^[a-z0-9-]{1,100}$")]
    pub handle: String,
    /// Translatable title, at most 200 characters per language.
    #[schema(schema_with = title_schema)]
    pub title: LocalizedText,
    /// Translatable description, at most 10000 characters per language.
    #[schema(schema_with = description_schema)]
    pub description: Option<LocalizedText>,
    /// `draft` (default), `active` or `archived`.
    #[schema(schema_with = new_status_schema)]
    pub status: Option<String>,
    /// Categories of the shop, each once (at most 20).
    #[serde(default)]
    #[schema(value_type = std::collections::BTreeSet<Uuid>, max_items = 20)]
    pub category_ids: Vec<Uuid>,
    /// Tags: at most 30, each at most 50 characters.
    #[serde(default)]
    #[schema(max_items = 30, max_length = 50, pattern = r"^[^\x00]*$")]
    pub tags: Vec<String>,
    /// Images (at most 20).
    #[serde(default)]
    #[schema(max_items = 20)]
    pub images: Vec<Image>,
    /// Where it comes from.
    pub origin: Option<Origin>,
    /// Who grows or makes it, at most 200 characters.
    #[schema(max_length = 200, pattern = r"^[^\x00]*$")]
    pub producer: Option<String>,
    /// Months of harvest (1 to 12).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 12, max_items = 12)]
    pub harvest_months: Vec<i32>,
    /// Shelf life in days (1 to 3650).
    #[schema(minimum = 1, maximum = 3650)]
    pub shelf_life_days: Option<i32>,
    /// `ambient`, `chilled` or `frozen`.
    #[schema(schema_with = storage_schema)]
    pub storage: Option<String>,
    /// Certifications: at most 20, each at most 100 characters.
    #[serde(default)]
    #[schema(max_items = 20, max_length = 100, pattern = r"^[^\x00]*$")]
    pub certifications: Vec<String>,
    /// 1 to 100 variants.
    #[schema(min_items = 1, max_items = 100)]
    pub variants: Vec<VariantInput>,
}

impl ProductRequest {
    /// Its fields, for [`check_product`].
    pub fn fields(&self) -> ProductFields<'_> {
        ProductFields {
            title: Some(&self.title),
            description: self.description.as_ref(),
            tags: Some(&self.tags),
            producer: self.producer.as_deref(),
            origin: self.origin.as_ref(),
            certifications: Some(&self.certifications),
            images: Some(&self.images),
            category_ids: Some(&self.category_ids),
            harvest_months: Some(&self.harvest_months),
            shelf_life_days: self.shelf_life_days,
            storage: self.storage.as_deref(),
            variants: Some(&self.variants),
        }
    }
}

fn title_schema() -> Schema {
    limits::localized_schema(
        "Translatable title, at most 200 characters per language.",
        limits::MAX_TITLE,
        false,
    )
}

fn description_schema() -> Schema {
    limits::localized_schema(
        "Translatable description, at most 10000 characters per language.",
        limits::MAX_DESCRIPTION,
        true,
    )
}

fn new_status_schema() -> ObjectBuilder {
    schemas::choice("`draft` (default), `active` or `archived`.", STATUSES, true)
}

/// The documented `storage` of a product, shared with the route that changes one.
pub(crate) fn storage_schema() -> ObjectBuilder {
    schemas::choice("`ambient`, `chilled` or `frozen`.", STORAGE, true)
}

/// The status a new product asks for: `draft` when it names none.
pub fn requested_status(raw: Option<&str>) -> Result<ProductStatus, FieldError> {
    match raw {
        None => Ok(ProductStatus::Draft),
        Some(raw) => ProductStatus::parse(raw)
            .ok_or_else(|| FieldError::new("status", "must be draft, active or archived")),
    }
}

/// A product's own fields as written; in a change, only those it changes. Every
/// way of writing a product (create, change, CSV import) checks them here.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProductFields<'a> {
    /// Title.
    pub title: Option<&'a LocalizedText>,
    /// Description.
    pub description: Option<&'a LocalizedText>,
    /// Tags.
    pub tags: Option<&'a [String]>,
    /// Producer.
    pub producer: Option<&'a str>,
    /// Origin.
    pub origin: Option<&'a Origin>,
    /// Certifications.
    pub certifications: Option<&'a [String]>,
    /// Images.
    pub images: Option<&'a [Image]>,
    /// Categories.
    pub category_ids: Option<&'a [Uuid]>,
    /// Months of harvest.
    pub harvest_months: Option<&'a [i32]>,
    /// Shelf life in days.
    pub shelf_life_days: Option<i32>,
    /// Storage.
    pub storage: Option<&'a str>,
    /// Variants (only when creating).
    pub variants: Option<&'a [VariantInput]>,
}

/// Checks a product's fields against the catalog's bounds ([`limits`]) and rules;
/// answers every problem, named by its path.
pub fn check_product(fields: &ProductFields<'_>, errors: &mut Vec<FieldError>) {
    if let Some(title) = fields.title {
        check_localized(title, "title", MAX_TITLE, errors);
    }
    if let Some(description) = fields.description {
        check_localized(description, "description", MAX_DESCRIPTION, errors);
    }
    if let Some(tags) = fields.tags {
        check_texts(tags, "tags", MAX_TAGS, MAX_TAG, errors);
    }
    if let Some(producer) = fields.producer {
        check_text(producer, "producer", MAX_NAME, errors);
    }
    if let Some(certifications) = fields.certifications {
        check_texts(
            certifications,
            "certifications",
            MAX_CERTIFICATIONS,
            MAX_CERTIFICATION,
            errors,
        );
    }
    if let Some(ids) = fields.category_ids {
        check_count(ids.len(), "category_ids", MAX_PRODUCT_CATEGORIES, errors);
    }
    if let Some(months) = fields.harvest_months {
        check_count(months.len(), "harvest_months", 12, errors);
        if let Some((index, _)) = months
            .iter()
            .enumerate()
            .find(|(_, m)| !(1..=12).contains(*m))
        {
            errors.push(FieldError::new(
                format!("harvest_months[{index}]"),
                "must be a month, 1 to 12",
            ));
        }
    }
    if let Some(days) = fields.shelf_life_days {
        check_range(days, "shelf_life_days", 1, MAX_SHELF_LIFE_DAYS, errors);
    }
    if fields
        .storage
        .is_some_and(|storage| !STORAGE.contains(&storage))
    {
        errors.push(FieldError::new(
            "storage",
            "must be ambient, chilled or frozen",
        ));
    }
    if let Some(origin) = fields.origin {
        if let Some(country) = origin.country.as_deref() {
            errors.extend(
                caravan_shared::domain::check_country_code(country, "origin.country").err(),
            );
        }
        if let Some(province) = origin.province.as_deref() {
            check_text(province, "origin.province", MAX_PLACE, errors);
        }
        if let Some(place) = origin.place.as_deref() {
            check_text(place, "origin.place", MAX_PLACE, errors);
        }
    }
    if let Some(images) = fields.images {
        check_count(images.len(), "images", MAX_IMAGES, errors);
        for (index, image) in images.iter().enumerate() {
            match (&image.url, image.media_id) {
                (Some(url), None) => {
                    if !caravan_shared::domain::web_address::is_https_url(url) || url.len() > 1000 {
                        errors.push(FieldError::new(
                            format!("images[{index}].url"),
                            "must be an https:// URL with a host name, at most 1000 characters",
                        ));
                    }
                }
                (None, Some(_)) => {}
                _ => errors.push(FieldError::new(
                    format!("images[{index}]"),
                    "give exactly one of url and media_id",
                )),
            }
            if let Some(alt) = image.alt.as_deref() {
                check_text(alt, format!("images[{index}].alt"), MAX_ALT, errors);
            }
        }
    }
    if let Some(variants) = fields.variants {
        if variants.is_empty() {
            errors.push(FieldError::new(
                "variants",
                "at least one variant is required",
            ));
        }
        check_count(variants.len(), "variants", MAX_VARIANTS, errors);
        for (index, variant) in variants.iter().enumerate() {
            check_variant(variant, &format!("variants[{index}]"), errors);
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
