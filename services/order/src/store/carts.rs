//! Carts and their lines.

use super::{StoredCurrency, tenant_of};
use caravan_shared::db::statement;
use caravan_shared::domain::Currency;
use caravan_shared::tenancy::TenantScoped;
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

/// A cart.
#[derive(Debug, Clone, FromQueryResult)]
pub struct CartRow {
    pub id: Uuid,
    pub token_hash: String,
    pub customer_id: Option<String>,
    pub currency: StoredCurrency,
    pub locale: String,
    pub order_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A cart line.
#[derive(Debug, Clone, FromQueryResult)]
pub struct CartLineRow {
    pub variant_id: Uuid,
    pub quantity: i32,
}

/// Creates a cart.
pub async fn insert_cart(
    scope: &impl TenantScoped,
    id: Uuid,
    token_hash: &str,
    customer: Option<&str>,
    currency: Currency,
    locale: &str,
) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "INSERT INTO carts (id, tenant_id, token_hash, customer_id, currency, locale) VALUES ($1, $2, $3, $4, $5, $6)",
            vec![
                id.into(),
                tenant_of(scope),
                token_hash.into(),
                customer.map(str::to_owned).into(),
                currency.as_str().into(),
                locale.into(),
            ],
        ))
        .await?;
    Ok(())
}

/// A cart; `lock` holds it until the transaction ends.
pub async fn cart(
    scope: &impl TenantScoped,
    id: Uuid,
    lock: bool,
) -> Result<Option<CartRow>, DbErr> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    CartRow::find_by_statement(statement(
        &format!(
            "SELECT id, token_hash, customer_id, currency, locale, order_id, created_at, updated_at \
             FROM carts WHERE tenant_id = $1 AND id = $2{suffix}"
        ),
        vec![tenant_of(scope), id.into()],
    ))
    .one(scope.conn())
    .await
}

/// A cart's lines, in the order they were added.
pub async fn cart_lines(scope: &impl TenantScoped, cart: Uuid) -> Result<Vec<CartLineRow>, DbErr> {
    CartLineRow::find_by_statement(statement(
        "SELECT variant_id, quantity FROM cart_lines WHERE tenant_id = $1 AND cart_id = $2 ORDER BY added_at, variant_id",
        vec![tenant_of(scope), cart.into()],
    ))
    .all(scope.conn())
    .await
}

/// Sets a line's quantity (`add`: adds to what is there); answers the new quantity.
pub async fn put_line(
    scope: &impl TenantScoped,
    cart: Uuid,
    variant: Uuid,
    quantity: i32,
    add: bool,
) -> Result<i32, DbErr> {
    let sql = if add {
        "INSERT INTO cart_lines (cart_id, tenant_id, variant_id, quantity) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = least(cart_lines.quantity + $4, 10000) RETURNING quantity"
    } else {
        "INSERT INTO cart_lines (cart_id, tenant_id, variant_id, quantity) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = $4 RETURNING quantity"
    };
    let row = scope
        .conn()
        .query_one_raw(statement(
            sql,
            vec![
                cart.into(),
                tenant_of(scope),
                variant.into(),
                quantity.into(),
            ],
        ))
        .await?
        .ok_or_else(|| DbErr::RecordNotInserted)?;
    touch_cart(scope, cart).await?;
    row.try_get("", "quantity")
}

/// Removes a line; answers whether it was there.
pub async fn remove_line(
    scope: &impl TenantScoped,
    cart: Uuid,
    variant: Uuid,
) -> Result<bool, DbErr> {
    let result = scope
        .conn()
        .execute_raw(statement(
            "DELETE FROM cart_lines WHERE tenant_id = $1 AND cart_id = $2 AND variant_id = $3",
            vec![tenant_of(scope), cart.into(), variant.into()],
        ))
        .await?;
    touch_cart(scope, cart).await?;
    Ok(result.rows_affected() == 1)
}

async fn touch_cart(scope: &impl TenantScoped, cart: Uuid) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE carts SET updated_at = now() WHERE tenant_id = $1 AND id = $2",
            vec![tenant_of(scope), cart.into()],
        ))
        .await?;
    Ok(())
}

/// Marks a cart as turned into `order`.
pub async fn close_cart(scope: &impl TenantScoped, cart: Uuid, order: Uuid) -> Result<(), DbErr> {
    scope
        .conn()
        .execute_raw(statement(
            "UPDATE carts SET order_id = $3, updated_at = now() WHERE tenant_id = $1 AND id = $2",
            vec![tenant_of(scope), cart.into(), order.into()],
        ))
        .await?;
    Ok(())
}
