//! Queries of the catalog database. Every function takes a tenant scope: row-level
//! security shows one shop's rows, and the SQL names the shop too.

use caravan_shared::db::statement;
use caravan_shared::domain::Money;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::{
    ColIdx, ConnectionTrait, DbErr, FromQueryResult, QueryResult, TryGetError, TryGetable, Value,
};
use uuid::Uuid;

/// A product row.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ProductRow {
    pub id: Uuid,
    pub handle: String,
    pub title: serde_json::Value,
    pub description: serde_json::Value,
    pub status: String,
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

/// A category row.
#[derive(Debug, Clone, FromQueryResult)]
pub struct CategoryRow {
    pub id: Uuid,
    pub handle: String,
    pub name: serde_json::Value,
    pub parent_id: Option<Uuid>,
    pub position: i32,
}

impl CategoryRow {
    /// What categories are listed by: position, then the handle (unique in a shop).
    pub fn sort_key(&self) -> (i32, String) {
        (self.position, self.handle.clone())
    }
}

const PRODUCT: &str = "id, handle, title, description, status, category_ids, tags, images, origin, producer, \
    harvest_months, shelf_life_days, storage, certifications, min_price, created_at, updated_at";
const VARIANT: &str = "id, product_id, sku, title, options, unit, weight_grams, prices, base_price, \
    compare_at_price, track_stock, on_hand, reserved, low_stock_threshold";

/// A product to store.
pub struct ProductValues {
    pub handle: String,
    pub title: serde_json::Value,
    pub description: serde_json::Value,
    pub status: String,
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
    fn append_to(&self, mut values: Vec<Value>) -> Vec<Value> {
        values.extend([
            self.handle.clone().into(),
            self.title.clone().into(),
            self.description.clone().into(),
            self.status.clone().into(),
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

/// One product.
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

/// The variants of some products, in their order.
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
    pub product_status: String,
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

/// Products the plan counts (all but archived ones).
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
    pub status: Option<String>,
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
        let p = bind(status.clone().into(), &mut values);
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
pub async fn set_status(scope: &impl TenantScoped, id: Uuid, status: &str) -> Result<bool, DbErr> {
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

/// Changes stock on hand by `delta` and records it, unless it would leave less on
/// hand than is reserved (or below zero). Answers the variant after the change.
pub async fn adjust_stock(
    scope: &impl TenantScoped,
    variant: Uuid,
    delta: i32,
    reason: &str,
    note: Option<&str>,
    actor: &str,
) -> Result<Option<VariantRow>, DbErr> {
    let changed = VariantRow::find_by_statement(statement(
        &format!(
            "UPDATE variants SET on_hand = on_hand + $3, updated_at = now() \
             WHERE tenant_id = $1 AND id = $2 AND on_hand + $3 >= 0 AND (NOT track_stock OR on_hand + $3 >= reserved) \
             RETURNING {VARIANT}"
        ),
        vec![scope.tenant().into_uuid().into(), variant.into(), delta.into()],
    ))
    .one(scope.conn())
    .await?;
    if let Some(row) = &changed {
        record_movement(scope, variant, delta, row.on_hand, reason, note, actor).await?;
    }
    Ok(changed)
}

/// Appends to the stock ledger.
pub async fn record_movement(
    scope: &impl TenantScoped,
    variant: Uuid,
    delta: i32,
    on_hand: i32,
    reason: &str,
    note: Option<&str>,
    actor: &str,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO stock_movements (id, tenant_id, variant_id, delta, on_hand, reason, note, actor) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            vec![
                Uuid::now_v7().into(),
                scope.tenant().into_uuid().into(),
                variant.into(),
                delta.into(),
                on_hand.into(),
                reason.into(),
                note.map(str::to_owned).into(),
                actor.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// A line of the stock ledger.
#[derive(Debug, Clone, FromQueryResult)]
pub struct MovementRow {
    pub id: Uuid,
    pub variant_id: Uuid,
    pub delta: i32,
    pub on_hand: i32,
    pub reason: String,
    pub note: Option<String>,
    pub actor: String,
    pub created_at: DateTime<Utc>,
}

/// A variant's ledger, newest first.
pub async fn movements(
    scope: &impl TenantScoped,
    variant: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<MovementRow>, DbErr> {
    MovementRow::find_by_statement(statement(
        "SELECT id, variant_id, delta, on_hand, reason, note, actor, created_at FROM stock_movements \
         WHERE tenant_id = $1 AND variant_id = $2 AND ($3::uuid IS NULL OR id < $3) \
         ORDER BY id DESC LIMIT $4",
        vec![
            scope.tenant().into_uuid().into(),
            variant.into(),
            before.into(),
            i64::try_from(limit).unwrap_or(i64::MAX).into(),
        ],
    ))
    .all(scope.conn())
    .await
}

/// Inserts a category.
pub async fn insert_category(
    scope: &impl TenantScoped,
    handle: &str,
    name: &serde_json::Value,
    parent: Option<Uuid>,
    position: i32,
) -> Result<CategoryRow, DbErr> {
    let row = CategoryRow::find_by_statement(statement(
        "INSERT INTO categories (id, tenant_id, handle, name, parent_id, position) VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING id, handle, name, parent_id, position",
        vec![
            Uuid::now_v7().into(),
            scope.tenant().into_uuid().into(),
            handle.into(),
            name.clone().into(),
            parent.into(),
            position.into(),
        ],
    ))
    .one(scope.conn())
    .await?;
    row.ok_or(DbErr::RecordNotInserted)
}

/// Changes a category; `None` when the shop has no such category.
pub async fn update_category(
    scope: &impl TenantScoped,
    id: Uuid,
    handle: &str,
    name: &serde_json::Value,
    parent: Option<Uuid>,
    position: i32,
) -> Result<Option<CategoryRow>, DbErr> {
    CategoryRow::find_by_statement(statement(
        "UPDATE categories SET handle = $3, name = $4, parent_id = $5, position = $6 \
         WHERE tenant_id = $1 AND id = $2 RETURNING id, handle, name, parent_id, position",
        vec![
            scope.tenant().into_uuid().into(),
            id.into(),
            handle.into(),
            name.clone().into(),
            parent.into(),
            position.into(),
        ],
    ))
    .one(scope.conn())
    .await
}

/// Deletes a category without subcategories and takes it off every product of the
/// shop, in one statement; whether it existed.
pub async fn delete_category(scope: &impl TenantScoped, id: Uuid) -> Result<bool, DbErr> {
    let tenant = scope.tenant().into_uuid();
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE products SET category_ids = array_remove(category_ids, $2), updated_at = now() \
             WHERE tenant_id = $1 AND $2 = ANY(category_ids)",
            vec![tenant.into(), id.into()],
        ))
        .await?;
    let deleted = scope
        .conn()
        .execute_raw(statement(
            "DELETE FROM categories WHERE tenant_id = $1 AND id = $2",
            vec![tenant.into(), id.into()],
        ))
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// The shop's categories, by position.
pub async fn categories(scope: &impl TenantScoped) -> Result<Vec<CategoryRow>, DbErr> {
    CategoryRow::find_by_statement(statement(
        "SELECT id, handle, name, parent_id, position FROM categories WHERE tenant_id = $1 ORDER BY position, handle",
        vec![scope.tenant().into_uuid().into()],
    ))
    .all(scope.conn())
    .await
}

/// How many of `ids` are categories of the shop.
pub async fn known_categories(scope: &impl TenantScoped, ids: &[Uuid]) -> Result<i64, DbErr> {
    let row = scope
        .conn()
        .query_one_raw(statement(
            "SELECT count(*) AS n FROM categories WHERE tenant_id = $1 AND id = ANY($2)",
            vec![scope.tenant().into_uuid().into(), ids.to_vec().into()],
        ))
        .await?;
    Ok(row
        .map(|row| row.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0))
}

/// Updates a variant's description, prices and threshold (stock moves separately).
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

/// Every product of the shop with its variants, by handle (for export).
pub async fn all_products(scope: &impl TenantScoped) -> Result<Vec<ProductRow>, DbErr> {
    ProductRow::find_by_statement(statement(
        &format!("SELECT {PRODUCT} FROM products WHERE tenant_id = $1 ORDER BY handle"),
        vec![scope.tenant().into_uuid().into()],
    ))
    .all(scope.conn())
    .await
}

/// Which of `handles` the shop already has.
pub async fn existing_handles(
    scope: &impl TenantScoped,
    handles: &[String],
) -> Result<Vec<String>, DbErr> {
    let rows = scope
        .conn()
        .query_all_raw(statement(
            "SELECT handle FROM products WHERE tenant_id = $1 AND handle = ANY($2)",
            vec![scope.tenant().into_uuid().into(), handles.to_vec().into()],
        ))
        .await?;
    rows.iter().map(|row| row.try_get("", "handle")).collect()
}

/// Builds `(…), (…)` placeholders for `rows` rows of `width` parameters.
fn placeholders(rows: usize, width: usize) -> String {
    (0..rows)
        .map(|row| {
            let cells: Vec<String> = (1..=width)
                .map(|col| format!("${}", row * width + col))
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Inserts new products with their variants and opening stock in a few statements
/// (bulk import). Answers nothing; a duplicate fails the whole call.
pub async fn insert_many(
    scope: &impl TenantScoped,
    products: &[(Uuid, ProductValues, Vec<VariantValues>)],
    actor: &str,
) -> Result<(), DbErr> {
    let tenant = scope.tenant().into_uuid();
    let mut values: Vec<Value> = Vec::new();
    for (id, product, _) in products {
        values.extend([(*id).into(), tenant.into()]);
        values = product.append_to(values);
    }
    scope
        .conn()
        .execute_raw(statement(
            &format!(
                "INSERT INTO products (id, tenant_id, handle, title, description, status, category_ids, tags, images, \
                 origin, producer, harvest_months, shelf_life_days, storage, certifications, search_text) VALUES {}",
                placeholders(products.len(), 16)
            ),
            values,
        ))
        .await?;
    let mut variant_values: Vec<Value> = Vec::new();
    let mut movement_values: Vec<Value> = Vec::new();
    let (mut variants, mut movements) = (0, 0);
    for (product, _, product_variants) in products {
        for v in product_variants {
            let id = Uuid::now_v7();
            variant_values.extend([
                id.into(),
                tenant.into(),
                (*product).into(),
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
            ]);
            variants += 1;
            if v.track_stock && v.on_hand > 0 {
                movement_values.extend([
                    Uuid::now_v7().into(),
                    tenant.into(),
                    id.into(),
                    v.on_hand.into(),
                    v.on_hand.into(),
                    "import".into(),
                    actor.into(),
                ]);
                movements += 1;
            }
        }
    }
    scope
        .conn()
        .execute_raw(statement(
            &format!(
                "INSERT INTO variants (id, tenant_id, product_id, sku, title, options, unit, weight_grams, prices, \
                 base_price, compare_at_price, track_stock, on_hand, low_stock_threshold, position) VALUES {}",
                placeholders(variants, 15)
            ),
            variant_values,
        ))
        .await?;
    if movements > 0 {
        scope
            .conn()
            .execute_raw(statement(
                &format!(
                    "INSERT INTO stock_movements (id, tenant_id, variant_id, delta, on_hand, reason, actor) VALUES {}",
                    placeholders(movements, 7)
                ),
                movement_values,
            ))
            .await?;
    }
    let ids: Vec<Uuid> = products.iter().map(|(id, _, _)| *id).collect();
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE products SET min_price = prices.min FROM \
             (SELECT product_id, min(base_price) AS min FROM variants WHERE tenant_id = $1 AND product_id = ANY($2) \
              GROUP BY product_id) AS prices \
             WHERE products.tenant_id = $1 AND products.id = prices.product_id",
            vec![tenant.into(), ids.into()],
        ))
        .await?;
    Ok(())
}

/// An upload's row.
#[derive(Debug, Clone, FromQueryResult)]
pub struct MediaRow {
    pub id: Uuid,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    /// `[{width, height, bytes}]`, smallest first.
    pub renditions: serde_json::Value,
    pub bytes: i64,
    pub created_at: DateTime<Utc>,
}

/// An upload to record.
pub struct MediaValues {
    pub id: Uuid,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub renditions: serde_json::Value,
    pub bytes: i64,
}

/// Records an upload whose renditions are stored.
pub async fn insert_media(scope: &impl TenantScoped, m: &MediaValues) -> Result<MediaRow, DbErr> {
    let row = MediaRow::find_by_statement(statement(
        "INSERT INTO media (id, tenant_id, content_type, width, height, renditions, bytes) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         RETURNING id, content_type, width, height, renditions, bytes, created_at",
        vec![
            m.id.into(),
            scope.tenant().into_uuid().into(),
            m.content_type.clone().into(),
            m.width.into(),
            m.height.into(),
            m.renditions.clone().into(),
            m.bytes.into(),
        ],
    ))
    .one(scope.conn())
    .await?;
    row.ok_or(DbErr::RecordNotInserted)
}

/// The shop's uploads among `ids`; unknown ids (and other shops') are left out.
pub async fn media(scope: &impl TenantScoped, ids: &[Uuid]) -> Result<Vec<MediaRow>, DbErr> {
    MediaRow::find_by_statement(statement(
        "SELECT id, content_type, width, height, renditions, bytes, created_at FROM media \
         WHERE tenant_id = $1 AND id = ANY($2)",
        vec![scope.tenant().into_uuid().into(), ids.to_vec().into()],
    ))
    .all(scope.conn())
    .await
}

/// A variant with its stock and product, as the stock list shows it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct StockRow {
    pub variant_id: Uuid,
    pub sku: String,
    pub variant_title: serde_json::Value,
    pub product_id: Uuid,
    pub product_title: serde_json::Value,
    pub product_handle: String,
    pub product_status: String,
    pub track_stock: bool,
    pub on_hand: i32,
    pub reserved: i32,
    pub low_stock_threshold: i32,
}

impl StockRow {
    /// What can still be sold.
    pub fn available(&self) -> i32 {
        (self.on_hand - self.reserved).max(0)
    }

    /// Counted, and no more left than the threshold.
    pub fn is_low(&self) -> bool {
        self.track_stock && self.available() <= self.low_stock_threshold
    }
}

/// Filters of the stock list.
#[derive(Debug, Default)]
pub struct StockListing {
    /// Text in the SKU or in a product's or variant's title (any language).
    pub text: Option<String>,
    /// Only counted variants with no more available than their threshold.
    pub low_only: bool,
    /// Only this variant.
    pub variant: Option<Uuid>,
}

/// Where a stock page starts: the SKU and id of the previous page's last variant.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AfterSku {
    /// The last SKU.
    pub sku: String,
    /// The last variant id.
    pub id: Uuid,
}

/// A page of the shop's variants with stock, by SKU.
pub async fn stock_list(
    scope: &impl TenantScoped,
    listing: &StockListing,
    after: Option<&AfterSku>,
    limit: u64,
) -> Result<Vec<StockRow>, DbErr> {
    let mut conditions = vec!["v.tenant_id = $1".to_owned(), "p.tenant_id = $1".to_owned()];
    let mut values: Vec<Value> = vec![scope.tenant().into_uuid().into()];
    let bind = |value: Value, values: &mut Vec<Value>| {
        values.push(value);
        format!("${}", values.len())
    };
    if let Some(text) = &listing.text {
        let pattern = caravan_shared::db::contains_pattern(&text.to_lowercase());
        let p = bind(pattern.into(), &mut values);
        conditions.push(format!(
            "(lower(v.sku) LIKE {p} \
             OR EXISTS (SELECT 1 FROM jsonb_each_text(p.title) t WHERE lower(t.value) LIKE {p}) \
             OR EXISTS (SELECT 1 FROM jsonb_each_text(v.title) t WHERE lower(t.value) LIKE {p}))"
        ));
    }
    if listing.low_only {
        conditions.push(
            "v.track_stock AND greatest(v.on_hand - v.reserved, 0) <= v.low_stock_threshold"
                .to_owned(),
        );
    }
    if let Some(variant) = listing.variant {
        let v = bind(variant.into(), &mut values);
        conditions.push(format!("v.id = {v}"));
    }
    if let Some(after) = after {
        let k = bind(after.sku.clone().into(), &mut values);
        let p = bind(after.id.into(), &mut values);
        conditions.push(format!("(v.sku, v.id) > ({k}, {p})"));
    }
    let l = bind(i64::try_from(limit).unwrap_or(101).into(), &mut values);
    StockRow::find_by_statement(statement(
        &format!(
            "SELECT v.id AS variant_id, v.sku, v.title AS variant_title, p.id AS product_id, \
             p.title AS product_title, p.handle AS product_handle, p.status AS product_status, \
             v.track_stock, v.on_hand, v.reserved, v.low_stock_threshold \
             FROM variants v JOIN products p ON p.id = v.product_id \
             WHERE {} ORDER BY v.sku, v.id LIMIT {l}",
            conditions.join(" AND ")
        ),
        values,
    ))
    .all(scope.conn())
    .await
}
