//! Stock: adjustments, the stock ledger and the stock list.

use super::VariantRow;
use super::entities::{stock_movements, variants};
use crate::domain::ProductStatus;
use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait, Value,
};
use uuid::Uuid;

/// Changes stock on hand by `delta` and records it, unless it would leave less on
/// hand than is reserved (or below zero). Answers the variant after the change.
/// Named SQL: the condition and the change are one statement, so concurrent
/// adjustments and reservations queue on the row and none can overdraw it.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), variant = %variant))]
pub async fn adjust_stock(
    scope: &impl TenantScoped,
    variant: Uuid,
    delta: i32,
    reason: &str,
    note: Option<&str>,
    actor: &str,
) -> Result<Option<VariantRow>, DbErr> {
    let changed = variants::Entity::find()
        .from_raw_sql(statement(
            "UPDATE variants SET on_hand = on_hand + $3, updated_at = now() \
             WHERE tenant_id = $1 AND id = $2 AND on_hand + $3 >= 0 AND (NOT track_stock OR on_hand + $3 >= reserved) \
             RETURNING *",
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
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), variant = %variant))]
pub async fn record_movement(
    scope: &impl TenantScoped,
    variant: Uuid,
    delta: i32,
    on_hand: i32,
    reason: &str,
    note: Option<&str>,
    actor: &str,
) -> Result<(), DbErr> {
    stock_movements::Entity::insert(stock_movements::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(scope.tenant().into_uuid()),
        variant_id: Set(variant),
        delta: Set(delta),
        on_hand: Set(on_hand),
        reason: Set(reason.to_owned()),
        note: Set(note.map(str::to_owned)),
        actor: Set(actor.to_owned()),
        ..Default::default()
    })
    .exec_without_returning(scope.conn())
    .await?;
    Ok(())
}

/// A line of the stock ledger.
pub type MovementRow = stock_movements::Model;

/// A variant's ledger, newest first.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), variant = %variant, before = ?before))]
pub async fn movements(
    scope: &impl TenantScoped,
    variant: Uuid,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<MovementRow>, DbErr> {
    stock_movements::Entity::find()
        .filter(stock_movements::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(stock_movements::Column::VariantId.eq(variant))
        .apply_if(before, |query, before| {
            query.filter(stock_movements::Column::Id.lt(before))
        })
        .order_by_desc(stock_movements::Column::Id)
        .limit(limit)
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
    pub product_status: ProductStatus,
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

/// A page of the shop's variants with stock, by SKU. Named SQL: the text filter
/// searches inside the titles' JSON (`jsonb_each_text`), which the builder cannot
/// say clearly.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
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
