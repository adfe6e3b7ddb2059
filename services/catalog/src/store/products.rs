//! Products: their rows, listings and lifecycle.

use super::entities::{products, reservations, variants};
use crate::domain::ProductStatus;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Condition, Expr, ExprTrait, Query};
use sea_orm::{
    ColumnTrait, DbErr, DerivePartialModel, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, SelectExt, Value,
};
use uuid::Uuid;

/// A product as the service reads it: every column but the shop (the scope names it)
/// and the search text (only searched, never shown).
#[derive(Debug, Clone, DerivePartialModel)]
#[sea_orm(entity = "products::Entity")]
pub struct ProductRow {
    pub id: Uuid,
    pub handle: String,
    pub title: serde_json::Value,
    pub description: serde_json::Value,
    pub status: ProductStatus,
    pub category_ids: Vec<Uuid>,
    pub tags: Vec<String>,
    pub images: serde_json::Value,
    pub origin: serde_json::Value,
    pub producer: Option<String>,
    pub harvest_months: Vec<i32>,
    pub shelf_life_days: Option<i32>,
    pub storage: Option<String>,
    pub certifications: Vec<String>,
    pub min_price: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A product to store.
pub struct ProductValues {
    pub handle: String,
    pub title: serde_json::Value,
    pub description: serde_json::Value,
    pub status: ProductStatus,
    pub category_ids: Vec<Uuid>,
    pub tags: Vec<String>,
    pub images: serde_json::Value,
    pub origin: serde_json::Value,
    pub producer: Option<String>,
    pub harvest_months: Vec<i32>,
    pub shelf_life_days: Option<i32>,
    pub storage: Option<String>,
    pub certifications: Vec<String>,
    pub search_text: String,
}

impl ProductValues {
    /// The product's own columns, set (ids, prices and times left to the caller).
    fn active_model(&self) -> products::ActiveModel {
        products::ActiveModel {
            handle: Set(self.handle.clone()),
            title: Set(self.title.clone()),
            description: Set(self.description.clone()),
            status: Set(self.status),
            category_ids: Set(self.category_ids.clone()),
            tags: Set(self.tags.clone()),
            images: Set(self.images.clone()),
            origin: Set(self.origin.clone()),
            producer: Set(self.producer.clone()),
            harvest_months: Set(self.harvest_months.clone()),
            shelf_life_days: Set(self.shelf_life_days),
            storage: Set(self.storage.clone()),
            certifications: Set(self.certifications.clone()),
            search_text: Set(self.search_text.clone()),
            ..Default::default()
        }
    }

    /// The product's columns as parameters, after the two given (bulk import binds
    /// them in the order of its column list).
    pub(super) fn append_to(&self, mut values: Vec<Value>) -> Vec<Value> {
        values.extend([
            self.handle.clone().into(),
            self.title.clone().into(),
            self.description.clone().into(),
            self.status.into(),
            self.category_ids.clone().into(),
            self.tags.clone().into(),
            self.images.clone().into(),
            self.origin.clone().into(),
            self.producer.clone().into(),
            self.harvest_months.clone().into(),
            self.shelf_life_days.into(),
            self.storage.clone().into(),
            self.certifications.clone().into(),
            self.search_text.clone().into(),
        ]);
        values
    }
}

/// Inserts a product.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn insert_product(
    scope: &impl TenantScoped,
    id: Uuid,
    p: &ProductValues,
) -> Result<(), DbErr> {
    products::Entity::insert(products::ActiveModel {
        id: Set(id),
        tenant_id: Set(scope.tenant().into_uuid()),
        ..p.active_model()
    })
    .exec_without_returning(scope.conn())
    .await?;
    Ok(())
}

/// Replaces a product's fields.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn update_product(
    scope: &impl TenantScoped,
    id: Uuid,
    p: &ProductValues,
) -> Result<bool, DbErr> {
    let result = products::Entity::update_many()
        .set(p.active_model())
        .col_expr(products::Column::UpdatedAt, Expr::current_timestamp())
        .filter(products::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(products::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// The shop's products.
fn shop_products(scope: &impl TenantScoped) -> sea_orm::Select<products::Entity> {
    products::Entity::find().filter(products::Column::TenantId.eq(scope.tenant().into_uuid()))
}

/// One product.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn product(scope: &impl TenantScoped, id: Uuid) -> Result<Option<ProductRow>, DbErr> {
    shop_products(scope)
        .filter(products::Column::Id.eq(id))
        .into_partial_model::<ProductRow>()
        .one(scope.conn())
        .await
}

/// One product, its row locked until the transaction ends (changes that depend on
/// its variants' count take turns).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn lock_product(
    scope: &impl TenantScoped,
    id: Uuid,
) -> Result<Option<ProductRow>, DbErr> {
    shop_products(scope)
        .filter(products::Column::Id.eq(id))
        .lock_exclusive()
        .into_partial_model::<ProductRow>()
        .one(scope.conn())
        .await
}

/// One product by handle.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), handle = %handle))]
pub async fn product_by_handle(
    scope: &impl TenantScoped,
    handle: &str,
) -> Result<Option<ProductRow>, DbErr> {
    shop_products(scope)
        .filter(products::Column::Handle.eq(handle))
        .into_partial_model::<ProductRow>()
        .one(scope.conn())
        .await
}

/// Products the plan counts (all but archived ones).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn counted_products(scope: &impl TenantScoped) -> Result<i64, DbErr> {
    let counted = shop_products(scope)
        .filter(products::Column::Status.ne(ProductStatus::Archived))
        .count(scope.conn())
        .await?;
    Ok(i64::try_from(counted).unwrap_or(i64::MAX))
}

/// Filters of a product listing.
#[derive(Debug, Default)]
pub struct Listing {
    /// Only this status.
    pub status: Option<ProductStatus>,
    /// Only products in this category.
    pub category: Option<Uuid>,
    /// Only products with this tag.
    pub tag: Option<String>,
    /// Text anywhere in titles, descriptions, tags, handle, producer.
    pub text: Option<String>,
    /// Lowest base price at least this.
    pub min_price: Option<i64>,
    /// Lowest base price at most this.
    pub max_price: Option<i64>,
    /// Only products with a variant available.
    pub in_stock: bool,
    /// `newest`, `price` or `title`.
    pub sort: Sort,
}

/// Orders of a listing.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Newest first (default).
    #[default]
    Newest,
    /// Cheapest first.
    Price,
    /// By handle.
    Title,
}

/// Where a page starts: the sort key and id of the last item of the previous page.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct After {
    /// Price or handle, for those sorts.
    pub key: Option<serde_json::Value>,
    /// The last id.
    pub id: Uuid,
}

/// A page of products.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn list_products(
    scope: &impl TenantScoped,
    listing: &Listing,
    after: Option<&After>,
    limit: u64,
) -> Result<Vec<ProductRow>, DbErr> {
    use products::Column;
    let mut query = shop_products(scope)
        .apply_if(listing.status, |query, status| {
            query.filter(Column::Status.eq(status))
        })
        .apply_if(listing.category, |query, category| {
            query.filter(Expr::val(category).eq(PgFunc::any(Expr::col(Column::CategoryIds))))
        })
        .apply_if(listing.tag.clone(), |query, tag| {
            query.filter(Expr::val(tag).eq(PgFunc::any(Expr::col(Column::Tags))))
        })
        .apply_if(listing.text.as_deref(), |query, text| {
            let pattern = caravan_shared::db::contains_pattern(&text.to_lowercase());
            query.filter(Column::SearchText.like(pattern))
        })
        .apply_if(listing.min_price, |query, min| {
            query.filter(Column::MinPrice.gte(min))
        })
        .apply_if(listing.max_price, |query, max| {
            query.filter(Column::MinPrice.lte(max))
        });
    if listing.in_stock {
        query = query.filter(Expr::exists(available_variant()));
    }
    // Keyset pages: after the previous page's last (key, id).
    query = match listing.sort {
        Sort::Newest => query
            .apply_if(after, |query, after| query.filter(Column::Id.lt(after.id)))
            .order_by_desc(Column::Id),
        Sort::Price => query
            .apply_if(after, |query, after| {
                let key = after
                    .key
                    .as_ref()
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0);
                query.filter(
                    Expr::tuple([Expr::col(Column::MinPrice), Expr::col(Column::Id)])
                        .gt(Expr::tuple([Expr::val(key), Expr::val(after.id)])),
                )
            })
            .order_by_asc(Column::MinPrice)
            .order_by_asc(Column::Id),
        Sort::Title => query
            .apply_if(after, |query, after| {
                let key = after
                    .key
                    .as_ref()
                    .and_then(|key| key.as_str())
                    .unwrap_or("")
                    .to_owned();
                query.filter(
                    Expr::tuple([Expr::col(Column::Handle), Expr::col(Column::Id)])
                        .gt(Expr::tuple([Expr::val(key), Expr::val(after.id)])),
                )
            })
            .order_by_asc(Column::Handle)
            .order_by_asc(Column::Id),
    };
    query
        .limit(limit)
        .into_partial_model::<ProductRow>()
        .all(scope.conn())
        .await
}

/// `SELECT 1 FROM variants WHERE` it is one of the product's (the listed row's) and
/// can be bought now: not counted, or more on hand than reserved.
fn available_variant() -> sea_orm::sea_query::SelectStatement {
    use variants::{Column, Entity as Variants};
    Query::select()
        .expr(Expr::val(1))
        .from(Variants)
        .and_where(
            Expr::col((Variants, Column::TenantId))
                .equals((products::Entity, products::Column::TenantId)),
        )
        .and_where(
            Expr::col((Variants, Column::ProductId))
                .equals((products::Entity, products::Column::Id)),
        )
        .cond_where(
            Condition::any()
                .add(Expr::col((Variants, Column::TrackStock)).not())
                .add(
                    Expr::col((Variants, Column::OnHand))
                        .gt(Expr::col((Variants, Column::Reserved))),
                ),
        )
        .to_owned()
}

/// Sets a product's status.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id, status = %status))]
pub async fn set_status(
    scope: &impl TenantScoped,
    id: Uuid,
    status: ProductStatus,
) -> Result<bool, DbErr> {
    let result = products::Entity::update_many()
        .col_expr(products::Column::Status, Expr::val(status))
        .col_expr(products::Column::UpdatedAt, Expr::current_timestamp())
        .filter(products::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(products::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Whether any order ever reserved one of the product's variants.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), product = %product))]
pub async fn has_orders(scope: &impl TenantScoped, product: Uuid) -> Result<bool, DbErr> {
    let tenant = scope.tenant().into_uuid();
    reservations::Entity::find()
        .inner_join(variants::Entity)
        .filter(reservations::Column::TenantId.eq(tenant))
        .filter(variants::Column::TenantId.eq(tenant))
        .filter(variants::Column::ProductId.eq(product))
        .exists(scope.conn())
        .await
}

/// Deletes a product (and its variants).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn delete_product(scope: &impl TenantScoped, id: Uuid) -> Result<bool, DbErr> {
    let result = products::Entity::delete_many()
        .filter(products::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(products::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(result.rows_affected == 1)
}

/// Every product of the shop, by handle (for export).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn all_products(scope: &impl TenantScoped) -> Result<Vec<ProductRow>, DbErr> {
    shop_products(scope)
        .order_by_asc(products::Column::Handle)
        .into_partial_model::<ProductRow>()
        .all(scope.conn())
        .await
}
