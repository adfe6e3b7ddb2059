//! Categories of a shop.

use super::entities::{categories, products};
use caravan_shared::tenancy::TenantScoped;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::extension::postgres::PgFunc;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

/// A category row.
pub type CategoryRow = categories::Model;

impl categories::Model {
    /// What categories are listed by: position, then the handle (unique in a shop).
    pub fn sort_key(&self) -> (i32, String) {
        (self.position, self.handle.clone())
    }
}

/// Inserts a category.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), parent = ?parent))]
pub async fn insert_category(
    scope: &impl TenantScoped,
    handle: &str,
    name: &serde_json::Value,
    parent: Option<Uuid>,
    position: i32,
) -> Result<CategoryRow, DbErr> {
    categories::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(scope.tenant().into_uuid()),
        handle: Set(handle.to_owned()),
        name: Set(name.clone()),
        parent_id: Set(parent),
        position: Set(position),
        ..Default::default()
    }
    .insert(scope.conn())
    .await
}

/// Changes a category; `None` when the shop has no such category.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id, parent = ?parent))]
pub async fn update_category(
    scope: &impl TenantScoped,
    id: Uuid,
    handle: &str,
    name: &serde_json::Value,
    parent: Option<Uuid>,
    position: i32,
) -> Result<Option<CategoryRow>, DbErr> {
    let changed = categories::Entity::update_many()
        .set(categories::ActiveModel {
            handle: Set(handle.to_owned()),
            name: Set(name.clone()),
            parent_id: Set(parent),
            position: Set(position),
            ..Default::default()
        })
        .filter(categories::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(categories::Column::Id.eq(id))
        .exec_with_returning(scope.conn())
        .await?;
    Ok(changed.into_iter().next())
}

/// Deletes a category without subcategories and takes it off every product of the
/// shop; whether it existed.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
pub async fn delete_category(scope: &impl TenantScoped, id: Uuid) -> Result<bool, DbErr> {
    let tenant = scope.tenant().into_uuid();
    // `category_ids = array_remove(category_ids, id)` where `id = ANY(category_ids)`.
    products::Entity::update_many()
        .col_expr(
            products::Column::CategoryIds,
            Func::cust("array_remove")
                .arg(Expr::col(products::Column::CategoryIds))
                .arg(Expr::val(id))
                .into(),
        )
        .col_expr(products::Column::UpdatedAt, Expr::current_timestamp())
        .filter(products::Column::TenantId.eq(tenant))
        .filter(Expr::val(id).eq(PgFunc::any(Expr::col(products::Column::CategoryIds))))
        .exec(scope.conn())
        .await?;
    let deleted = categories::Entity::delete_many()
        .filter(categories::Column::TenantId.eq(tenant))
        .filter(categories::Column::Id.eq(id))
        .exec(scope.conn())
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// The shop's categories, by position.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn categories(scope: &impl TenantScoped) -> Result<Vec<CategoryRow>, DbErr> {
    categories::Entity::find()
        .filter(categories::Column::TenantId.eq(scope.tenant().into_uuid()))
        .order_by_asc(categories::Column::Position)
        .order_by_asc(categories::Column::Handle)
        .all(scope.conn())
        .await
}

/// How many of `ids` are categories of the shop.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn known_categories(scope: &impl TenantScoped, ids: &[Uuid]) -> Result<i64, DbErr> {
    let known = categories::Entity::find()
        .filter(categories::Column::TenantId.eq(scope.tenant().into_uuid()))
        .filter(categories::Column::Id.is_in(ids.iter().copied()))
        .count(scope.conn())
        .await?;
    Ok(i64::try_from(known).unwrap_or(i64::MAX))
}
