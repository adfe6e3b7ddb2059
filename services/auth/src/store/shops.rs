//! The shops' slugs and statuses, as the tenant service publishes them.

use super::entities::tenants;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, Statement,
};
use uuid::Uuid;

/// A shop by slug.
#[tracing::instrument(skip_all)]
pub async fn tenant_by_slug<C: ConnectionTrait>(
    conn: &C,
    slug: &str,
) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find()
        .filter(tenants::Column::Slug.eq(slug))
        .one(conn)
        .await
}

/// A shop by id.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn tenant<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> Result<Option<tenants::Model>, DbErr> {
    tenants::Entity::find_by_id(id).one(conn).await
}

/// Records a shop's slug and status.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn upsert_tenant<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    slug: &str,
    status: &str,
) -> Result<(), DbErr> {
    conn.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO tenants (id, slug, status) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET slug = excluded.slug, status = excluded.status, updated_at = now()",
        [id.into(), slug.into(), status.into()],
    ))
    .await?;
    Ok(())
}

/// Changes a shop's status.
#[tracing::instrument(skip_all, fields(id = %id))]
pub async fn set_tenant_status<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
    status: &str,
) -> Result<(), DbErr> {
    tenants::Entity::update_many()
        .col_expr(tenants::Column::Status, Expr::value(status))
        .col_expr(tenants::Column::UpdatedAt, Expr::current_timestamp())
        .filter(tenants::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}
