//! Categories of a shop.

use caravan_shared::db::statement;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::{ConnectionTrait, DbErr, FromQueryResult};
use uuid::Uuid;

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

/// Inserts a category.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), parent = ?parent))]
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
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id, parent = ?parent))]
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
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant(), id = %id))]
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
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
pub async fn categories(scope: &impl TenantScoped) -> Result<Vec<CategoryRow>, DbErr> {
    CategoryRow::find_by_statement(statement(
        "SELECT id, handle, name, parent_id, position FROM categories WHERE tenant_id = $1 ORDER BY position, handle",
        vec![scope.tenant().into_uuid().into()],
    ))
    .all(scope.conn())
    .await
}

/// How many of `ids` are categories of the shop.
#[tracing::instrument(skip_all, fields(tenant = %scope.tenant()))]
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
