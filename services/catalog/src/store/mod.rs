//! Queries of the catalog database. Every function takes a tenant scope: row-level
//! security shows one shop's rows, and the SQL names the shop too.

use crate::domain::{ProductStatus, ReservationStatus};
use sea_orm::{ColIdx, QueryResult, TryGetError, TryGetable};

mod categories;
mod import;
mod media;
mod products;
pub mod reservations;
mod stock;
mod variants;

pub use categories::*;
pub use import::*;
pub use media::*;
pub use products::*;
pub use stock::*;
pub use variants::*;

const PRODUCT: &str = "id, handle, title, description, status, category_ids, tags, images, origin, producer, \
    harvest_months, shelf_life_days, storage, certifications, min_price, created_at, updated_at";
const VARIANT: &str = "id, product_id, sku, title, options, unit, weight_grams, prices, base_price, \
    compare_at_price, track_stock, on_hand, reserved, low_stock_threshold";

// Statuses are read into their enums: a row holding one the code does not know
// fails to read (the request answers 500 and the cause is logged), rather than
// passing for some other status.
use caravan_shared::db::decode_text as decode;

impl TryGetable for ProductStatus {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        decode(res, index, "product status", ProductStatus::parse)
    }
}

impl TryGetable for ReservationStatus {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        decode(res, index, "reservation status", ReservationStatus::parse)
    }
}
