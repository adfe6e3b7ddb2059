//! Products: their rows, listings and lifecycle.

use super::PRODUCT;
use crate::domain::ProductStatus;
use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult, Value};
use uuid::Uuid;

/// A product row.
#[derive(Debug, Clone, FromQueryResult)]
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
    /// The product's columns as parameters $3 to $16, after the two given.
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
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO products (id, tenant_id, handle, title, description, status, category_ids, tags, images, \
             origin, producer, harvest_months, shelf_life_days, storage, certifications, search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            p.append_to(vec![id.into(), scope.tenant().into_uuid().into()]),
        ))
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
    let result = scope
        .conn()
        .execute_raw(statement(
            "UPDATE products SET handle = $3, title = $4, description = $5, status = $6, category_ids = $7, \
             tags = $8, images = $9, origin = $10, producer = $11, harvest_months = $12, shelf_life_days = $13, \
             storage = $14, certifications = $15, search_text = $16, updated_at = now() \
             WHERE tenant_id = $1 AND id = $2",
            p.append_to(vec![scope.tenant().into_uuid().into(), id.into()]),
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// One product.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn product(scope: &impl TenantScoped, id: Uuid) -> Result<Option<ProductRow>, DbErr> {
    ProductRow::find_by_statement(statement(
        &format!("SELECT {PRODUCT} FROM products WHERE tenant_id = $1 AND id = $2"),
        vec![scope.tenant().into_uuid().into(), id.into()],
    ))
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
    ProductRow::find_by_statement(statement(
        &format!("SELECT {PRODUCT} FROM products WHERE tenant_id = $1 AND id = $2 FOR UPDATE"),
        vec![scope.tenant().into_uuid().into(), id.into()],
    ))
    .one(scope.conn())
    .await
}

/// One product by handle.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn product_by_handle(
    scope: &impl TenantScoped,
    handle: &str,
) -> Result<Option<ProductRow>, DbErr> {
    ProductRow::find_by_statement(statement(
        &format!("SELECT {PRODUCT} FROM products WHERE tenant_id = $1 AND handle = $2"),
        vec![scope.tenant().into_uuid().into(), handle.into()],
    ))
    .one(scope.conn())
    .await
}

/// Products the plan counts (all but archived ones).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn counted_products(scope: &impl TenantScoped) -> Result<i64, DbErr> {
    let row = scope
        .conn()
        .query_one_raw(statement(
            "SELECT count(*) AS n FROM products WHERE tenant_id = $1 AND status <> 'archived'",
            vec![scope.tenant().into_uuid().into()],
        ))
        .await?;
    Ok(row
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
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
    let mut conditions = vec!["tenant_id = $1".to_owned()];
    let mut values: Vec<Value> = vec![scope.tenant().into_uuid().into()];
    let bind = |value: Value, values: &mut Vec<Value>| {
        values.push(value);
        format!("${}", values.len())
    };
    if let Some(status) = &listing.status {
        let p = bind((*status).into(), &mut values);
        conditions.push(format!("status = {p}"));
    }
    if let Some(category) = listing.category {
        let p = bind(category.into(), &mut values);
        conditions.push(format!("{p} = ANY(category_ids)"));
    }
    if let Some(tag) = &listing.tag {
        let p = bind(tag.clone().into(), &mut values);
        conditions.push(format!("{p} = ANY(tags)"));
    }
    if let Some(text) = &listing.text {
        let pattern = caravan_shared::db::contains_pattern(&text.to_lowercase());
        let p = bind(pattern.into(), &mut values);
        conditions.push(format!("search_text LIKE {p}"));
    }
    if let Some(min) = listing.min_price {
        let p = bind(min.into(), &mut values);
        conditions.push(format!("min_price >= {p}"));
    }
    if let Some(max) = listing.max_price {
        let p = bind(max.into(), &mut values);
        conditions.push(format!("min_price <= {p}"));
    }
    if listing.in_stock {
        conditions.push(
            "EXISTS (SELECT 1 FROM variants v WHERE v.tenant_id = products.tenant_id AND v.product_id = products.id \
             AND (NOT v.track_stock OR v.on_hand > v.reserved))"
                .to_owned(),
        );
    }
    let order = match listing.sort {
        Sort::Newest => {
            if let Some(after) = after {
                let p = bind(after.id.into(), &mut values);
                conditions.push(format!("id < {p}"));
            }
            "id DESC"
        }
        Sort::Price => {
            if let Some(after) = after {
                let key = after
                    .key
                    .as_ref()
                    .and_then(serde_json::Value::as_i64)
                    .unwrap_or(0);
                let k = bind(key.into(), &mut values);
                let p = bind(after.id.into(), &mut values);
                conditions.push(format!("(min_price, id) > ({k}, {p})"));
            }
            "min_price, id"
        }
        Sort::Title => {
            if let Some(after) = after {
                let key = after
                    .key
                    .as_ref()
                    .and_then(|k| k.as_str())
                    .unwrap_or("")
                    .to_owned();
                let k = bind(key.into(), &mut values);
                let p = bind(after.id.into(), &mut values);
                conditions.push(format!("(handle, id) > ({k}, {p})"));
            }
            "handle, id"
        }
    };
    let l = bind(i64::try_from(limit).unwrap_or(101).into(), &mut values);
    ProductRow::find_by_statement(statement(
        &format!(
            "SELECT {PRODUCT} FROM products WHERE {} ORDER BY {order} LIMIT {l}",
            conditions.join(" AND ")
        ),
        values,
    ))
    .all(scope.conn())
    .await
}

/// Sets a product's status.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn set_status(
    scope: &impl TenantScoped,
    id: Uuid,
    status: ProductStatus,
) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "UPDATE products SET status = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
            vec![scope.tenant().into_uuid().into(), id.into(), status.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Whether any order ever reserved one of the product's variants.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), product = %product))]
pub async fn has_orders(scope: &impl TenantScoped, product: Uuid) -> Result<bool, DbErr> {
    let row = scope
        .conn()
        .query_one_raw(statement(
            "SELECT EXISTS (SELECT 1 FROM reservations r JOIN variants v ON v.id = r.variant_id \
             WHERE r.tenant_id = $1 AND v.product_id = $2) AS found",
            vec![scope.tenant().into_uuid().into(), product.into()],
        ))
        .await?;
    Ok(row
        .map(|row| row.try_get::<bool>("", "found"))
        .transpose()?
        .unwrap_or(false))
}

/// Deletes a product (and its variants).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn delete_product(scope: &impl TenantScoped, id: Uuid) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "DELETE FROM products WHERE tenant_id = $1 AND id = $2",
            vec![scope.tenant().into_uuid().into(), id.into()],
        ))
        .await?;
    Ok(result.rows_affected() == 1)
}

/// Every product of the shop with its variants, by handle (for export).
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn all_products(scope: &impl TenantScoped) -> Result<Vec<ProductRow>, DbErr> {
    ProductRow::find_by_statement(statement(
        &format!("SELECT {PRODUCT} FROM products WHERE tenant_id = $1 ORDER BY handle"),
        vec![scope.tenant().into_uuid().into()],
    ))
    .all(scope.conn())
    .await
}
