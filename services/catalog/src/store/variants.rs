//! Variants: their rows, prices and what a cart or order sees of them.

use super::entities::{products, variants};
use super::{Price, Prices};
use crate::domain::ProductStatus;
use caravan_shared::db::statement;
use caravan_shared::tenancy::{TenantId, TenantScoped};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, Func, SubQueryStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, QueryTrait,
};
use uuid::Uuid;

/// A variant row.
pub type VariantRow = variants::Model;

impl variants::Model {
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
    pub prices: Prices,
    pub base_price: i64,
    pub compare_at_price: Option<Price>,
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
    variants::Entity::insert(variants::ActiveModel {
        id: Set(id),
        tenant_id: Set(scope.tenant().into_uuid()),
        product_id: Set(product),
        sku: Set(v.sku.clone()),
        title: Set(v.title.clone()),
        options: Set(v.options.clone()),
        unit: Set(v.unit.clone()),
        weight_grams: Set(v.weight_grams),
        prices: Set(v.prices.clone()),
        base_price: Set(v.base_price),
        compare_at_price: Set(v.compare_at_price),
        track_stock: Set(v.track_stock),
        on_hand: Set(v.on_hand),
        low_stock_threshold: Set(v.low_stock_threshold),
        position: Set(v.position),
        ..Default::default()
    })
    .exec_without_returning(scope.conn())
    .await?;
    Ok(id)
}

/// Keeps a product's lowest base price current: the least of its variants' base
/// prices, 0 without variants.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), product = %product))]
pub async fn refresh_min_price(scope: &impl TenantScoped, product: Uuid) -> Result<(), DbErr> {
    let tenant = scope.tenant().into_uuid();
    let lowest = variants::Entity::find()
        .select_only()
        .expr(Func::min(Expr::col(variants::Column::BasePrice)))
        .filter(variants::Column::TenantId.eq(tenant))
        .filter(variants::Column::ProductId.eq(product))
        .into_query();
    products::Entity::update_many()
        .col_expr(
            products::Column::MinPrice,
            Func::coalesce([
                Expr::SubQuery(None, Box::new(SubQueryStatement::SelectStatement(lowest))),
                Expr::val(0i64),
            ])
            .into(),
        )
        .filter(products::Column::TenantId.eq(tenant))
        .filter(products::Column::Id.eq(product))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// The variants of some products, in their order.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn variants_of(
    scope: &impl TenantScoped,
    products: &[Uuid],
) -> Result<Vec<VariantRow>, DbErr> {
    variants::Entity::find()
        .filter(variants::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(variants::Column::ProductId.is_in(products.iter().copied()))
        .order_by_asc(variants::Column::ProductId)
        .order_by_asc(variants::Column::Position)
        .all(scope.conn())
        .await
}

/// One variant.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn variant(scope: &impl TenantScoped, id: Uuid) -> Result<Option<VariantRow>, DbErr> {
    variants::Entity::find()
        .filter(variants::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(variants::Column::Id.eq(id))
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
    pub prices: Prices,
    pub track_stock: bool,
    pub on_hand: i32,
    pub reserved: i32,
}

/// Some variants of `tenant` with their products; unknown ids are left out. One
/// statement of its own (`caravan_sellable`, see its migration), no transaction:
/// carts and checkouts read this on every view.
#[tracing::instrument(skip_all, fields(tenant = %tenant))]
pub async fn sellable(
    db: &DatabaseConnection,
    tenant: TenantId,
    ids: &[Uuid],
) -> Result<Vec<SellableRow>, DbErr> {
    let rows = db
        .query_all_raw(statement(
            "SELECT * FROM caravan_sellable($1, $2)",
            vec![tenant.into_uuid().into(), ids.to_vec().into()],
        ))
        .await?;
    rows.iter()
        .map(|row| SellableRow::from_query_result(row, ""))
        .collect()
}

/// Updates a variant's description, prices and threshold (stock moves separately).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn update_variant(
    scope: &impl TenantScoped,
    id: Uuid,
    v: &VariantValues,
) -> Result<(), DbErr> {
    variants::Entity::update_many()
        .set(variants::ActiveModel {
            title: Set(v.title.clone()),
            options: Set(v.options.clone()),
            unit: Set(v.unit.clone()),
            weight_grams: Set(v.weight_grams),
            prices: Set(v.prices.clone()),
            base_price: Set(v.base_price),
            compare_at_price: Set(v.compare_at_price),
            low_stock_threshold: Set(v.low_stock_threshold),
            ..Default::default()
        })
        .col_expr(variants::Column::UpdatedAt, Expr::current_timestamp())
        .filter(variants::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(variants::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(())
}
