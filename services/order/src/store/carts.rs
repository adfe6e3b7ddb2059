//! Carts and their lines.

use super::entities::{cart_lines, carts};
use super::tenant_of;
use caravan_shared::domain::Currency;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, Func, OnConflict};
use sea_orm::{ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

/// A cart.
pub type CartRow = carts::Model;

/// A cart line.
pub type CartLineRow = cart_lines::Model;

/// The most of one variant a cart holds (the column's check).
const MAX_QUANTITY: i32 = 10_000;

/// Creates a cart.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), cart = %id))]
pub async fn insert_cart(
    scope: &impl TenantScoped,
    id: Uuid,
    token_hash: &str,
    customer: Option<&str>,
    currency: Currency,
    locale: &str,
) -> Result<(), DbErr> {
    carts::Entity::insert(carts::ActiveModel {
        id: Set(id),
        tenant_id: Set(tenant_of(scope)),
        token_hash: Set(token_hash.to_owned()),
        customer_id: Set(customer.map(str::to_owned)),
        currency: Set(currency.into()),
        locale: Set(locale.to_owned()),
        ..Default::default()
    })
    .exec_without_returning(scope.conn())
    .await?;
    Ok(())
}

/// A cart; `lock` holds it until the transaction ends.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), cart = %id, lock = lock))]
pub async fn cart(
    scope: &impl TenantScoped,
    id: Uuid,
    lock: bool,
) -> Result<Option<CartRow>, DbErr> {
    let query = carts::Entity::find()
        .filter(carts::Column::TenantId.eq(tenant_of(scope)))
        .filter(carts::Column::Id.eq(id));
    let query = if lock { query.lock_exclusive() } else { query };
    query.one(scope.conn()).await
}

/// A cart's lines, in the order they were added.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), cart = %cart))]
pub async fn cart_lines(scope: &impl TenantScoped, cart: Uuid) -> Result<Vec<CartLineRow>, DbErr> {
    cart_lines::Entity::find()
        .filter(cart_lines::Column::TenantId.eq(tenant_of(scope)))
        .filter(cart_lines::Column::CartId.eq(cart))
        .order_by_asc(cart_lines::Column::AddedAt)
        .order_by_asc(cart_lines::Column::VariantId)
        .all(scope.conn())
        .await
}

/// Sets a line's quantity (`add`: adds to what is there, up to the most a line
/// holds); answers the new quantity.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), cart = %cart, variant = %variant, quantity = quantity, add = add))]
pub async fn put_line(
    scope: &impl TenantScoped,
    cart: Uuid,
    variant: Uuid,
    quantity: i32,
    add: bool,
) -> Result<i32, DbErr> {
    let mut on_conflict =
        OnConflict::columns([cart_lines::Column::CartId, cart_lines::Column::VariantId]);
    if add {
        on_conflict.value(
            cart_lines::Column::Quantity,
            Func::least([
                Expr::col((cart_lines::Entity, cart_lines::Column::Quantity)).add(quantity),
                Expr::val(MAX_QUANTITY),
            ]),
        );
    } else {
        on_conflict.update_column(cart_lines::Column::Quantity);
    }
    let line = cart_lines::Entity::insert(cart_lines::ActiveModel {
        cart_id: Set(cart),
        tenant_id: Set(tenant_of(scope)),
        variant_id: Set(variant),
        quantity: Set(quantity),
        ..Default::default()
    })
    .on_conflict(on_conflict)
    .exec_with_returning(scope.conn())
    .await?;
    touch_cart(scope, cart).await?;
    Ok(line.quantity)
}

/// Removes a line; answers whether it was there.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), cart = %cart, variant = %variant))]
pub async fn remove_line(
    scope: &impl TenantScoped,
    cart: Uuid,
    variant: Uuid,
) -> Result<bool, DbErr> {
    let result = cart_lines::Entity::delete_many()
        .filter(cart_lines::Column::TenantId.eq(tenant_of(scope)))
        .filter(cart_lines::Column::CartId.eq(cart))
        .filter(cart_lines::Column::VariantId.eq(variant))
        .exec(scope.conn())
        .await?;
    touch_cart(scope, cart).await?;
    Ok(result.rows_affected == 1)
}

async fn touch_cart(scope: &impl TenantScoped, cart: Uuid) -> Result<(), DbErr> {
    carts::Entity::update_many()
        .col_expr(carts::Column::UpdatedAt, Expr::current_timestamp())
        .filter(carts::Column::TenantId.eq(tenant_of(scope)))
        .filter(carts::Column::Id.eq(cart))
        .exec(scope.conn())
        .await?;
    Ok(())
}

/// Marks a cart as turned into `order`.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), cart = %cart, order = %order))]
pub async fn close_cart(scope: &impl TenantScoped, cart: Uuid, order: Uuid) -> Result<(), DbErr> {
    carts::Entity::update_many()
        .col_expr(carts::Column::OrderId, Expr::value(order))
        .col_expr(carts::Column::UpdatedAt, Expr::current_timestamp())
        .filter(carts::Column::TenantId.eq(tenant_of(scope)))
        .filter(carts::Column::Id.eq(cart))
        .exec(scope.conn())
        .await?;
    Ok(())
}
