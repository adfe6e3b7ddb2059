//! What the catalog answers with.

use crate::domain::ProductStatus;
use crate::store::{CategoryRow, MovementRow, ProductRow, VariantRow};
use caravan_shared::domain::{Locale, LocalizedText, Money};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

/// The variant the examples of staff views show.
fn variant_example() -> serde_json::Value {
    serde_json::json!({
        "id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f", "sku": "GOJI-500G",
        "title": {"zh-CN": "500克", "en": "500 g"}, "options": {"size": "500 g bag"},
        "unit": "piece", "weight_grams": 520,
        "prices": [{"amount": 6800, "currency": "CNY"}, {"amount": 950, "currency": "USD"}],
        "compare_at_price": {"amount": 7800, "currency": "CNY"},
        "track_stock": true, "on_hand": 120, "reserved": 2, "available": 118, "low_stock_threshold": 10
    })
}

/// A variant, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = variant_example)]
pub struct VariantView {
    /// Id.
    pub id: Uuid,
    /// SKU.
    #[schema(example = "GOJI-500G")]
    pub sku: String,
    /// Translatable name.
    #[schema(value_type = Object)]
    pub title: serde_json::Value,
    /// Option values.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    /// Unit of sale.
    pub unit: String,
    /// Shipping weight.
    pub weight_grams: i32,
    /// Prices; the first is the base price.
    #[schema(value_type = Vec<Money>)]
    pub prices: Vec<Money>,
    /// Price before a discount.
    #[schema(value_type = Option<Money>)]
    pub compare_at_price: Option<Money>,
    /// Whether stock is counted.
    pub track_stock: bool,
    /// On hand.
    pub on_hand: i32,
    /// Held for unpaid orders.
    pub reserved: i32,
    /// On hand minus reserved.
    pub available: i32,
    /// `stock.low` below this.
    pub low_stock_threshold: i32,
}

impl From<&VariantRow> for VariantView {
    fn from(row: &VariantRow) -> Self {
        Self {
            id: row.id,
            sku: row.sku.clone(),
            title: row.title.clone(),
            options: row.options.clone(),
            unit: row.unit.clone(),
            weight_grams: row.weight_grams,
            prices: row.prices.0.clone(),
            compare_at_price: row.compare_at_price.map(|price| price.0),
            track_stock: row.track_stock,
            on_hand: row.on_hand,
            reserved: row.reserved,
            available: row.available(),
            low_stock_threshold: row.low_stock_threshold,
        }
    }
}

/// A product, as staff see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d", "handle": "ningxia-goji-dried",
    "title": {"zh-CN": "宁夏中宁枸杞", "en": "Ningxia goji berries, dried", "ug": "نىڭشيا لەڭزە"},
    "description": {"zh-CN": "中宁县头茬枸杞，自然晾晒。", "en": "First-harvest berries from Zhongning, sun-dried."},
    "status": "active", "category_ids": ["0193a7c4-4e10-7b2c-9d3e-5f6a7b8c9d0e"],
    "tags": ["goji", "dried-fruit"],
    "images": [{"url": "https://cdn.zhongning-goji.cn/goji-500g.jpg", "alt": "Half a kilo of dried goji berries"}],
    "origin": {"country": "CN", "province": "Ningxia", "place": "Zhongning county"},
    "producer": "Zhongning Goji Cooperative", "harvest_months": [6, 7, 8], "shelf_life_days": 365,
    "storage": "ambient", "certifications": ["organic", "GI: Ningxia goji"],
    "variants": [variant_example()],
    "created_at": "2026-09-02T03:15:00Z", "updated_at": "2026-11-28T09:05:00Z"
}))]
pub struct ProductView {
    /// Id.
    pub id: Uuid,
    /// Handle, unique in the shop.
    #[schema(example = "ningxia-goji-dried")]
    pub handle: String,
    /// Translatable title.
    #[schema(value_type = Object)]
    pub title: serde_json::Value,
    /// Translatable description.
    #[schema(value_type = Object)]
    pub description: serde_json::Value,
    /// `draft`, `active` or `archived`.
    #[schema(value_type = String)]
    pub status: ProductStatus,
    /// Categories.
    pub category_ids: Vec<Uuid>,
    /// Tags.
    pub tags: Vec<String>,
    /// Images with alt text.
    #[schema(value_type = Vec<ImageView>)]
    pub images: serde_json::Value,
    /// Where it comes from.
    #[schema(value_type = crate::domain::Origin)]
    pub origin: serde_json::Value,
    /// Who grows or makes it.
    pub producer: Option<String>,
    /// Months of harvest.
    pub harvest_months: Vec<i32>,
    /// Shelf life.
    pub shelf_life_days: Option<i32>,
    /// `ambient`, `chilled` or `frozen`.
    pub storage: Option<String>,
    /// Certifications, e.g. organic or a geographical indication.
    pub certifications: Vec<String>,
    /// Variants.
    pub variants: Vec<VariantView>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

impl ProductView {
    /// A product with its variants.
    pub fn new(row: ProductRow, variants: &[VariantRow]) -> Self {
        Self {
            variants: variants
                .iter()
                .filter(|variant| variant.product_id == row.id)
                .map(VariantView::from)
                .collect(),
            id: row.id,
            handle: row.handle,
            title: row.title,
            description: row.description,
            status: row.status,
            category_ids: row.category_ids,
            tags: row.tags,
            images: row.images,
            origin: row.origin,
            producer: row.producer,
            harvest_months: row.harvest_months,
            shelf_life_days: row.shelf_life_days,
            storage: row.storage,
            certifications: row.certifications,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

/// Picks the text for a buyer: the wanted locales, then the fallback.
pub fn localize(value: &serde_json::Value, wanted: &[Locale], fallback: &Locale) -> Option<String> {
    let text: LocalizedText = serde_json::from_value(value.clone()).ok()?;
    Some(text.resolve(wanted, fallback).1.to_owned())
}

/// A variant, as buyers see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f", "sku": "GOJI-500G", "title": "500克",
    "options": {"size": "500 g bag"}, "unit": "piece", "weight_grams": 520,
    "price": {"amount": 6800, "currency": "CNY"}, "compare_at_price": {"amount": 7800, "currency": "CNY"},
    "in_stock": true
}))]
pub struct StorefrontVariant {
    /// Id (to add to a cart).
    pub id: Uuid,
    /// SKU.
    pub sku: String,
    /// Name in the buyer's language.
    pub title: Option<String>,
    /// Option values.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    /// Unit of sale.
    pub unit: String,
    /// Shipping weight.
    pub weight_grams: i32,
    /// Price in the asked currency when the shop prices it so, else the base price.
    pub price: Option<Money>,
    /// Price before a discount (base currency).
    #[schema(value_type = Option<Money>)]
    pub compare_at_price: Option<Money>,
    /// Whether it can be bought now.
    pub in_stock: bool,
}

/// A product, as buyers see it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d", "handle": "ningxia-goji-dried",
    "title": "宁夏中宁枸杞", "description": "中宁县头茬枸杞，自然晾晒。", "locale": "zh-CN",
    "tags": ["goji", "dried-fruit"], "category_ids": ["0193a7c4-4e10-7b2c-9d3e-5f6a7b8c9d0e"],
    "images": [{"url": "https://cdn.zhongning-goji.cn/goji-500g.jpg", "alt": "Half a kilo of dried goji berries"}],
    "origin": {"country": "CN", "province": "Ningxia", "place": "Zhongning county"},
    "producer": "Zhongning Goji Cooperative", "harvest_months": [6, 7, 8], "shelf_life_days": 365,
    "storage": "ambient", "certifications": ["organic", "GI: Ningxia goji"],
    "variants": [{
        "id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f", "sku": "GOJI-500G", "title": "500克",
        "options": {"size": "500 g bag"}, "unit": "piece", "weight_grams": 520,
        "price": {"amount": 6800, "currency": "CNY"}, "compare_at_price": {"amount": 7800, "currency": "CNY"},
        "in_stock": true
    }]
}))]
pub struct StorefrontProduct {
    /// Id.
    pub id: Uuid,
    /// Handle (for the product page).
    pub handle: String,
    /// Title in the buyer's language.
    #[schema(example = "宁夏中宁枸杞 500克")]
    pub title: Option<String>,
    /// Description in the buyer's language.
    pub description: Option<String>,
    /// The language chosen.
    #[schema(example = "zh-CN")]
    pub locale: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Categories.
    pub category_ids: Vec<Uuid>,
    /// Images.
    #[schema(value_type = Vec<ImageView>)]
    pub images: serde_json::Value,
    /// Origin.
    #[schema(value_type = crate::domain::Origin)]
    pub origin: serde_json::Value,
    /// Producer.
    pub producer: Option<String>,
    /// Harvest months.
    pub harvest_months: Vec<i32>,
    /// Shelf life.
    pub shelf_life_days: Option<i32>,
    /// Storage.
    pub storage: Option<String>,
    /// Certifications.
    pub certifications: Vec<String>,
    /// Variants.
    pub variants: Vec<StorefrontVariant>,
}

/// The price in `currency` when the variant has one, else its base price (the first).
/// The prices were read as money with the row: one the code cannot read fails the
/// query instead of leaving the variant without a price here.
fn price_in(prices: &[Money], currency: Option<&str>) -> Option<Money> {
    currency
        .and_then(|wanted| {
            prices
                .iter()
                .find(|price| price.currency.as_str() == wanted)
                .copied()
        })
        .or_else(|| prices.first().copied())
}

impl StorefrontProduct {
    /// A product for buyers in `wanted` locales and `currency`.
    pub fn new(
        row: ProductRow,
        variants: &[VariantRow],
        wanted: &[Locale],
        fallback: &Locale,
        currency: Option<&str>,
    ) -> Self {
        let title: Option<LocalizedText> = serde_json::from_value(row.title.clone()).ok();
        let locale = title.as_ref().map_or_else(
            || fallback.to_string(),
            |title| title.resolve(wanted, fallback).0.to_string(),
        );
        Self {
            title: localize(&row.title, wanted, fallback),
            description: localize(&row.description, wanted, fallback),
            locale,
            variants: variants
                .iter()
                .filter(|variant| variant.product_id == row.id)
                .map(|variant| StorefrontVariant {
                    id: variant.id,
                    sku: variant.sku.clone(),
                    title: localize(&variant.title, wanted, fallback),
                    options: variant.options.clone(),
                    unit: variant.unit.clone(),
                    weight_grams: variant.weight_grams,
                    price: price_in(&variant.prices.0, currency),
                    compare_at_price: variant.compare_at_price.map(|price| price.0),
                    in_stock: !variant.track_stock || variant.available() > 0,
                })
                .collect(),
            id: row.id,
            handle: row.handle,
            tags: row.tags,
            category_ids: row.category_ids,
            images: row.images,
            origin: row.origin,
            producer: row.producer,
            harvest_months: row.harvest_months,
            shelf_life_days: row.shelf_life_days,
            storage: row.storage,
            certifications: row.certifications,
        }
    }
}

/// A category.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193a7c4-4e10-7b2c-9d3e-5f6a7b8c9d0e", "handle": "dried-fruit",
    "name": {"zh-CN": "干果", "en": "Dried fruit", "ug": "قۇرۇق مېۋە"}, "parent_id": null, "position": 1
}))]
pub struct CategoryView {
    /// Id.
    pub id: Uuid,
    /// Handle.
    #[schema(example = "dried-fruit")]
    pub handle: String,
    /// Translatable name (staff) or the name in the buyer's language (storefront).
    #[schema(value_type = Value)]
    pub name: serde_json::Value,
    /// Parent category.
    pub parent_id: Option<Uuid>,
    /// Position among siblings.
    pub position: i32,
}

impl From<CategoryRow> for CategoryView {
    fn from(row: CategoryRow) -> Self {
        Self {
            id: row.id,
            handle: row.handle,
            name: row.name,
            parent_id: row.parent_id,
            position: row.position,
        }
    }
}

/// A line of the stock ledger.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193b1d2-3e4f-7a5b-8c6d-7e8f9a0b1c2d", "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f",
    "delta": 200, "on_hand": 320, "reason": "received", "note": "Harvest delivery from member farms",
    "actor": "staff:0193a7c4-2b30-7e4f-9a1b-3c5d7e9f1a2b", "created_at": "2026-11-27T06:40:00Z"
}))]
pub struct MovementView {
    /// Id.
    pub id: Uuid,
    /// The variant.
    pub variant_id: Uuid,
    /// Change of stock on hand.
    pub delta: i32,
    /// On hand after it.
    pub on_hand: i32,
    /// `received`, `damaged`, `correction`, `sale`, `initial` or `import`.
    pub reason: String,
    /// A note.
    pub note: Option<String>,
    /// Who.
    pub actor: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<MovementRow> for MovementView {
    fn from(row: MovementRow) -> Self {
        Self {
            id: row.id,
            variant_id: row.variant_id,
            delta: row.delta,
            on_hand: row.on_hand,
            reason: row.reason,
            note: row.note,
            actor: row.actor,
            created_at: row.created_at,
        }
    }
}

/// One size of an uploaded photo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({"width": 640, "height": 480, "url": "/media/0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d/5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a/640.jpg"}))]
pub struct RenditionView {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Same-origin path: `/media/{tenant_id}/{media_id}/{width}.{jpg|webp}`.
    pub url: String,
}

/// An uploaded photo: its upright size and the renditions made of it.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a", "width": 4032, "height": 3024, "content_type": "image/jpeg",
    "url": "/media/0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d/5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a/1280.jpg",
    "renditions": [
        {"width": 320, "height": 240, "url": "/media/0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d/5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a/320.jpg"},
        {"width": 640, "height": 480, "url": "/media/0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d/5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a/640.jpg"},
        {"width": 1280, "height": 960, "url": "/media/0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d/5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a/1280.jpg"}
    ]
}))]
pub struct MediaView {
    /// Id, to name as `media_id` in a product's images.
    pub id: Uuid,
    /// Width of the upright photo.
    pub width: u32,
    /// Height of the upright photo.
    pub height: u32,
    /// Encoding of the renditions: `image/jpeg` (opaque) or `image/webp` (transparent).
    pub content_type: String,
    /// The largest rendition.
    pub url: String,
    /// Every rendition, smallest first.
    pub renditions: Vec<RenditionView>,
}

/// A product image as answered: a URL image (`url`, `alt`) or an uploaded photo,
/// which adds `media_id`, its size and its renditions (`url` is the largest).
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
#[schema(example = json!({
    "media_id": "5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a", "alt": "Half a kilo of dried goji berries",
    "url": "/media/0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d/5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a/1280.jpg",
    "width": 4032, "height": 3024,
    "renditions": [{"width": 320, "height": 240, "url": "/media/0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d/5f0c6f7e-3f7a-4b6e-9a53-2d1c0b9e8f7a/320.jpg"}]
}))]
pub struct ImageView {
    /// An https:// URL, or for an uploaded photo the path of its largest rendition.
    pub url: String,
    /// Alternative text.
    pub alt: Option<String>,
    /// The upload, for uploaded photos.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_id: Option<Uuid>,
    /// Width of the photo (uploaded photos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height of the photo (uploaded photos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Sizes to choose from, smallest first (uploaded photos; absent for URL images).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renditions: Vec<RenditionView>,
}

/// A variant's stock, with the product it belongs to.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "sku": "GOJI-500G", "variant_id": "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f",
    "variant_title": {"zh-CN": "500克", "en": "500 g"},
    "product_id": "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d",
    "product_title": {"zh-CN": "宁夏中宁枸杞", "en": "Ningxia goji berries, dried"},
    "product_handle": "ningxia-goji-dried", "product_status": "active",
    "track_stock": true, "on_hand": 12, "reserved": 4, "available": 8, "low_stock_threshold": 10, "low": true
}))]
pub struct StockItem {
    /// SKU.
    pub sku: String,
    /// The variant.
    pub variant_id: Uuid,
    /// The variant's translatable name, as stored.
    #[schema(value_type = Object)]
    pub variant_title: serde_json::Value,
    /// The product.
    pub product_id: Uuid,
    /// The product's translatable title, as stored.
    #[schema(value_type = Object)]
    pub product_title: serde_json::Value,
    /// The product's handle.
    pub product_handle: String,
    /// `draft`, `active` or `archived`.
    #[schema(value_type = String)]
    pub product_status: ProductStatus,
    /// Whether stock is counted.
    pub track_stock: bool,
    /// On hand.
    pub on_hand: i32,
    /// Held for unpaid orders.
    pub reserved: i32,
    /// On hand minus reserved.
    pub available: i32,
    /// Low at or below this.
    pub low_stock_threshold: i32,
    /// Counted, and no more available than the threshold.
    pub low: bool,
}

impl From<crate::store::StockRow> for StockItem {
    fn from(row: crate::store::StockRow) -> Self {
        Self {
            available: row.available(),
            low: row.is_low(),
            sku: row.sku,
            variant_id: row.variant_id,
            variant_title: row.variant_title,
            product_id: row.product_id,
            product_title: row.product_title,
            product_handle: row.product_handle,
            product_status: row.product_status,
            track_stock: row.track_stock,
            on_hand: row.on_hand,
            reserved: row.reserved,
            low_stock_threshold: row.low_stock_threshold,
        }
    }
}

/// One rendition as the `media` row records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct StoredRendition {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Size of the file.
    pub bytes: u64,
}

/// A `media` row the code cannot read (written by a newer version or by hand): an
/// internal error, never a photo shown with no size or no URL. (A format the code
/// does not know already fails to read in the store.)
#[derive(Debug, thiserror::Error)]
pub enum UnreadableMedia {
    /// `renditions` is not a list of stored renditions.
    #[error("media {id} has renditions that cannot be read")]
    Renditions {
        id: Uuid,
        #[source]
        source: serde_json::Error,
    },
    /// An upload always has at least one rendition.
    #[error("media {id} has no renditions")]
    NoRenditions { id: Uuid },
    /// Width and height are positive.
    #[error("media {id} has a size of {width}x{height}")]
    Size { id: Uuid, width: i32, height: i32 },
}

impl MediaView {
    /// An upload of `tenant`, with the paths of its renditions; an error when its
    /// row cannot be read.
    pub fn new(tenant: Uuid, row: &crate::store::MediaRow) -> Result<Self, UnreadableMedia> {
        use crate::domain::media::MediaKey;
        let id = row.id;
        let format = row.content_type;
        let stored: Vec<StoredRendition> = serde_json::from_value(row.renditions.clone())
            .map_err(|source| UnreadableMedia::Renditions { id, source })?;
        let size = |side: i32| u32::try_from(side).ok().filter(|side| *side > 0);
        let (Some(width), Some(height)) = (size(row.width), size(row.height)) else {
            return Err(UnreadableMedia::Size {
                id,
                width: row.width,
                height: row.height,
            });
        };
        let renditions: Vec<RenditionView> = stored
            .iter()
            .map(|r| RenditionView {
                width: r.width,
                height: r.height,
                url: MediaKey {
                    tenant,
                    media: row.id,
                    width: r.width,
                    format,
                }
                .url(),
            })
            .collect();
        let url = renditions
            .last()
            .map(|r| r.url.clone())
            .ok_or(UnreadableMedia::NoRenditions { id })?;
        Ok(Self {
            id,
            width,
            height,
            content_type: format.content_type().to_owned(),
            url,
            renditions,
        })
    }
}

impl ImageView {
    /// A product image showing an upload.
    pub fn of_media(media: MediaView, alt: Option<String>) -> Self {
        Self {
            url: media.url,
            alt,
            media_id: Some(media.id),
            width: Some(media.width),
            height: Some(media.height),
            renditions: media.renditions,
        }
    }
}
