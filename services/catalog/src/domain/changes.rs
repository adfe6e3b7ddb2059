//! Changes of a product or a variant as staff name them: what a change may touch,
//! the status it may name, and what a variant becomes once changed.

use super::{Image, Origin, ProductStatus, VariantInput};
use caravan_shared::FieldError;
use caravan_shared::domain::{LocalizedText, Money};
use uuid::Uuid;

/// A change of a product's own fields; `None` keeps what is stored. Its variants
/// change through their own calls, and it is archived by the archive call.
#[derive(Debug, Default)]
pub struct ProductChange {
    /// New handle, as written.
    pub handle: Option<String>,
    /// New title.
    pub title: Option<LocalizedText>,
    /// New description.
    pub description: Option<LocalizedText>,
    /// New status, as written (see [`changed_status`]).
    pub status: Option<String>,
    /// Categories.
    pub category_ids: Option<Vec<Uuid>>,
    /// Tags.
    pub tags: Option<Vec<String>>,
    /// Images, as written.
    pub images: Option<Vec<Image>>,
    /// Origin.
    pub origin: Option<Origin>,
    /// Producer.
    pub producer: Option<String>,
    /// Months of harvest.
    pub harvest_months: Option<Vec<i32>>,
    /// Shelf life in days.
    pub shelf_life_days: Option<i32>,
    /// Storage.
    pub storage: Option<String>,
    /// Certifications.
    pub certifications: Option<Vec<String>>,
}

/// The status a change leaves a product in: `draft` or `active`, or the status it
/// already has; naming none keeps it. Archiving has its own call.
pub fn changed_status(
    current: ProductStatus,
    raw: Option<&str>,
) -> Result<ProductStatus, FieldError> {
    match raw.map(ProductStatus::parse) {
        None => Ok(current),
        Some(Some(status @ (ProductStatus::Draft | ProductStatus::Active))) => Ok(status),
        Some(Some(status)) if status == current => Ok(status),
        Some(_) => Err(FieldError::new(
            "status",
            "must be draft or active; archive with POST /v1/products/{id}/archive",
        )),
    }
}

/// A change of a variant's name, options, unit, weight, prices or threshold;
/// `None` keeps what is stored. Its SKU stays, and its stock moves through
/// adjustments.
#[derive(Debug, Default)]
pub struct VariantChange {
    /// New name.
    pub title: Option<LocalizedText>,
    /// New option values.
    pub options: Option<serde_json::Map<String, serde_json::Value>>,
    /// New unit, as written.
    pub unit: Option<String>,
    /// New shipping weight.
    pub weight_grams: Option<i32>,
    /// New prices; the first is the base price.
    pub prices: Option<Vec<Money>>,
    /// New price before a discount; `Some(None)` removes it.
    pub compare_at_price: Option<Option<Money>>,
    /// New `stock.low` threshold.
    pub low_stock_threshold: Option<i32>,
}

impl VariantChange {
    /// The variant `current` becomes with this change, to be checked as a whole.
    pub fn apply(self, current: VariantInput) -> VariantInput {
        VariantInput {
            title: self.title.or(current.title),
            options: self.options.unwrap_or(current.options),
            unit: self.unit.unwrap_or(current.unit),
            weight_grams: self.weight_grams.unwrap_or(current.weight_grams),
            prices: self.prices.unwrap_or(current.prices),
            compare_at_price: self.compare_at_price.unwrap_or(current.compare_at_price),
            low_stock_threshold: self
                .low_stock_threshold
                .unwrap_or(current.low_stock_threshold),
            ..current
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{ProductStatus, VariantChange, VariantInput, changed_status};
    use caravan_shared::domain::{Currency, Money};

    #[test]
    fn a_change_names_draft_active_or_the_status_it_has() {
        use ProductStatus::{Active, Archived, Draft};
        assert_eq!(changed_status(Archived, None), Ok(Archived));
        assert_eq!(changed_status(Draft, Some("active")), Ok(Active));
        assert_eq!(changed_status(Archived, Some("draft")), Ok(Draft));
        assert_eq!(changed_status(Archived, Some("archived")), Ok(Archived));
        for (current, raw) in [(Active, "archived"), (Draft, "published")] {
            let error = changed_status(current, Some(raw)).unwrap_err();
            assert_eq!(error.field, "status");
        }
    }

    #[test]
    fn a_variant_change_keeps_what_it_does_not_name() {
        let price = |amount| Money {
            amount,
            currency: Currency::cny(),
        };
        let current = VariantInput {
            sku: "GOJI-500G".into(),
            title: None,
            options: serde_json::Map::new(),
            unit: "piece".into(),
            weight_grams: 520,
            prices: vec![price(6800)],
            compare_at_price: Some(price(8000)),
            track_stock: true,
            stock: 120,
            low_stock_threshold: 10,
        };
        let changed = VariantChange {
            prices: Some(vec![price(7200)]),
            compare_at_price: Some(None),
            ..Default::default()
        }
        .apply(current);
        assert_eq!(changed.prices, vec![price(7200)]);
        assert_eq!(changed.compare_at_price, None);
        assert_eq!(
            (changed.sku.as_str(), changed.unit.as_str()),
            ("GOJI-500G", "piece")
        );
        assert_eq!((changed.weight_grams, changed.stock), (520, 120));
        assert_eq!(changed.low_stock_threshold, 10);
        assert!(changed.track_stock);
    }
}
