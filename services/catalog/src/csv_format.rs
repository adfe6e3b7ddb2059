//! The catalog's CSV format, one row per variant (UTF-8; a byte-order mark is
//! tolerated on import). Rows of one product share its `handle`; product columns are
//! read from its first row.
//!
//! | column | meaning |
//! |---|---|
//! | `handle` | product handle (a-z, 0-9, -) |
//! | `status` | `draft` (default), `active` or `archived` |
//! | `title.zh-CN`, `title.en`, `title.ug` | title per language (at least one) |
//! | `description.zh-CN`, `description.en`, `description.ug` | description per language |
//! | `tags`, `certifications` | lists separated by `\|` |
//! | `origin_country`, `origin_province`, `origin_place`, `producer` | produce origin |
//! | `harvest_months` | months separated by `\|`, e.g. `6\|7\|8` |
//! | `shelf_life_days`, `storage` | days; `ambient`, `chilled` or `frozen` |
//! | `sku`, `variant_title.zh-CN`, `variant_title.en`, `unit`, `weight_grams` | the variant |
//! | `prices` | minor units and currency, first the base: `6800 CNY\|950 USD` |
//! | `stock`, `low_stock_threshold` | units on hand (set, not added); threshold |
//!
//! Rows are held to the same bounds as the JSON calls (`domain::limits`): a text
//! too long, a list too long or an amount out of range makes the row an error named
//! by its column (or `prices[0].amount`-style path), and its product changes nothing.

/// The columns, in order.
pub const COLUMNS: &[&str] = &[
    "handle",
    "status",
    "title.zh-CN",
    "title.en",
    "title.ug",
    "description.zh-CN",
    "description.en",
    "description.ug",
    "tags",
    "origin_country",
    "origin_province",
    "origin_place",
    "producer",
    "harvest_months",
    "shelf_life_days",
    "storage",
    "certifications",
    "sku",
    "variant_title.zh-CN",
    "variant_title.en",
    "unit",
    "weight_grams",
    "prices",
    "stock",
    "low_stock_threshold",
];

/// Splits a `|` list, dropping blanks.
pub fn list(raw: &str) -> Vec<String> {
    raw.split('|')
        .map(str::trim)
        .filter(|item| !item.is_empty())
        .map(str::to_owned)
        .collect()
}
