//! Variants: their rows, prices and what a cart or order sees of them.

use super::VARIANT;
use crate::domain::ProductStatus;
use caravan_shared::db::statement;
use caravan_shared::domain::Money;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::{
    ColIdx, ConnectionTrait, DbErr, FromQueryResult, QueryResult, TryGetError, TryGetable,
};
use uuid::Uuid;

/// A variant's `prices` column read as money. A price the code cannot read (a
/// currency it does not know, a malformed entry) fails the row: the query answers
/// an error (500, logged), never a variant that silently has no price.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prices(pub Vec<Money>);

impl TryGetable for Prices {
    fn try_get_by<I: ColIdx>(res: &QueryResult, index: I) -> Result<Self, TryGetError> {
        let stored = serde_json::Value::try_get_by(res, index)?;
        Prices::from_stored(stored).map_err(|error| {
            TryGetError::DbErr(DbErr::Type(format!(
                "variants.prices holds a price that cannot be read: {error}"
            )))
        })
    }
}

impl Prices {
    /// Reads stored prices; an unreadable one is an error, never left out.
    pub fn from_stored(stored: serde_json::Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(stored).map(Self)
    }
}

/// A variant row.
#[derive(Debug, Clone, FromQueryResult)]
pub struct VariantRow {
    pub id: Uuid,
    pub product_id: Uuid,
    pub sku: String,
    pub title: serde_json::Value,
    pub options: serde_json::Value,
    pub unit: String,
    pub weight_grams: i32,
    pub prices: serde_json::Value,
    /// `prices`, read as money (see [`Prices`]).
    #[sea_orm(alias = "prices")]
    pub price_list: Prices,
    pub base_price: i64,
    pub compare_at_price: Option<serde_json::Value>,
    pub track_stock: bool,
    pub on_hand: i32,
    pub reserved: i32,
    pub low_stock_threshold: i32,
}

impl VariantRow {
    /// What can still be sold.
    pub fn available(&self) -> i32 {
        (self.on_hand - self.reserved).max(0)
    }
}

/// A variant to store.
pub struct VariantValues {
    pub sku: String,
    pub title: serde_json::Value,
    pub options: serde_json::Value,
    pub unit: String,
    pub weight_grams: i32,
    pub prices: serde_json::Value,
    pub base_price: i64,
    pub compare_at_price: Option<serde_json::Value>,
    pub track_stock: bool,
    pub on_hand: i32,
    pub low_stock_threshold: i32,
    pub position: i32,
}

/// Inserts a variant.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), product = %product))]
pub async fn insert_variant(
    scope: &impl TenantScoped,
    product: Uuid,
    v: &VariantValues,
) -> Result<Uuid, DbErr> {
    let id = Uuid::now_v7();
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO variants (id, tenant_id, product_id, sku, title, options, unit, weight_grams, prices, \
             base_price, compare_at_price, track_stock, on_hand, low_stock_threshold, position) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
            vec![
                id.into(),
                scope.tenant().into_uuid().into(),
                product.into(),
                v.sku.clone().into(),
                v.title.clone().into(),
                v.options.clone().into(),
                v.unit.clone().into(),
                v.weight_grams.into(),
                v.prices.clone().into(),
                v.base_price.into(),
                v.compare_at_price.clone().into(),
                v.track_stock.into(),
                v.on_hand.into(),
                v.low_stock_threshold.into(),
                v.position.into(),
            ],
        ))
        .await?;
    Ok(id)
}

/// Keeps a product's lowest base price current.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), product = %product))]
pub async fn refresh_min_price(scope: &impl TenantScoped, product: Uuid) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE products SET min_price = coalesce((SELECT min(base_price) FROM variants \
             WHERE tenant_id = $1 AND product_id = $2), 0) WHERE tenant_id = $1 AND id = $2",
            vec![scope.tenant().into_uuid().into(), product.into()],
        ))
        .await?;
    Ok(())
}

/// The variants of some products, in their order.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn variants_of(
    scope: &impl TenantScoped,
    products: &[Uuid],
) -> Result<Vec<VariantRow>, DbErr> {
    VariantRow::find_by_statement(statement(
        &format!("SELECT {VARIANT} FROM variants WHERE tenant_id = $1 AND product_id = ANY($2) ORDER BY product_id, position"),
        vec![scope.tenant().into_uuid().into(), products.to_vec().into()],
    ))
    .all(scope.conn())
    .await
}

/// One variant.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn variant(scope: &impl TenantScoped, id: Uuid) -> Result<Option<VariantRow>, DbErr> {
    VariantRow::find_by_statement(statement(
        &format!("SELECT {VARIANT} FROM variants WHERE tenant_id = $1 AND id = $2"),
        vec![scope.tenant().into_uuid().into(), id.into()],
    ))
    .one(scope.conn())
    .await
}

/// A variant with the product it belongs to, as a cart or an order sees it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SellableRow {
    pub id: Uuid,
    pub product_id: Uuid,
    pub handle: String,
    pub product_title: serde_json::Value,
    pub product_status: ProductStatus,
    pub images: serde_json::Value,
    pub sku: String,
    pub title: serde_json::Value,
    pub weight_grams: i32,
    pub prices: serde_json::Value,
    /// `prices`, read as money (see [`Prices`]).
    #[sea_orm(alias = "prices")]
    pub price_list: Prices,
    pub track_stock: bool,
    pub on_hand: i32,
    pub reserved: i32,
}

/// Some variants with their products; unknown ids are left out.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn sellable(scope: &impl TenantScoped, ids: &[Uuid]) -> Result<Vec<SellableRow>, DbErr> {
    SellableRow::find_by_statement(statement(
        "SELECT v.id, v.product_id, p.handle, p.title AS product_title, p.status AS product_status, p.images, \
         v.sku, v.title, v.weight_grams, v.prices, v.track_stock, v.on_hand, v.reserved \
         FROM variants v JOIN products p ON p.id = v.product_id \
         WHERE v.tenant_id = $1 AND p.tenant_id = $1 AND v.id = ANY($2) ORDER BY v.id",
        vec![scope.tenant().into_uuid().into(), ids.to_vec().into()],
    ))
    .all(scope.conn())
    .await
}

/// Updates a variant's description, prices and threshold (stock moves separately).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn update_variant(
    scope: &impl TenantScoped,
    id: Uuid,
    v: &VariantValues,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE variants SET title = $3, options = $4, unit = $5, weight_grams = $6, prices = $7, base_price = $8, \
             compare_at_price = $9, low_stock_threshold = $10, updated_at = now() WHERE tenant_id = $1 AND id = $2",
            vec![
                scope.tenant().into_uuid().into(),
                id.into(),
                v.title.clone().into(),
                v.options.clone().into(),
                v.unit.clone().into(),
                v.weight_grams.into(),
                v.prices.clone().into(),
                v.base_price.into(),
                v.compare_at_price.clone().into(),
                v.low_stock_threshold.into(),
            ],
        ))
        .await?;
    Ok(())
}
