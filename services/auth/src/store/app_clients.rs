//! A shop's app clients (client credentials).

use super::entities::app_clients;
use super::*;
use caravan_shared::tenancy::TenantScoped;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait,
};
use uuid::Uuid;

/// Stores an app client of the transaction's shop.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), created_by = ?created_by))]
pub async fn insert_client(
    tx: &impl TenantScoped,
    client_id: &str,
    name: &str,
    secret_hash: &str,
    scopes: &[String],
    created_by: Option<Uuid>,
) -> Result<app_clients::Model, DbErr> {
    app_clients::ActiveModel {
        id: Set(Uuid::now_v7()),
        tenant_id: Set(tx.tenant().into_uuid()),
        client_id: Set(client_id.to_owned()),
        name: Set(name.to_owned()),
        secret_hash: Set(secret_hash.to_owned()),
        scopes: Set(scopes.to_vec()),
        created_by: Set(created_by),
        ..Default::default()
    }
    .insert(tx.conn())
    .await
}

/// The shop's app clients, newest first (ids are UUIDv7), after `before` and at
/// most `limit`.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant(), before = ?before))]
pub async fn clients(
    tx: &impl TenantScoped,
    before: Option<Uuid>,
    limit: u64,
) -> Result<Vec<app_clients::Model>, DbErr> {
    app_clients::Entity::find()
        .filter(app_clients::Column::TenantId.eq(tx.tenant().into_uuid()))
        .apply_if(before, |query, id| {
            query.filter(app_clients::Column::Id.lt(id))
        })
        .order_by_desc(app_clients::Column::Id)
        .limit(limit)
        .all(tx.conn())
        .await
}

/// An app client as its owner names it: by `id`, or by its public `client_id`.
#[derive(Debug, Clone, Copy)]
pub enum ClientRef<'a> {
    Id(Uuid),
    ClientId(&'a str),
}

/// Revokes one of the shop's clients: answers its `id`, or none when there is no such
/// live client.
#[tracing::instrument(skip_all, fields(tenant = %tx.tenant()))]
pub async fn revoke_client(
    tx: &impl TenantScoped,
    client: ClientRef<'_>,
) -> Result<Option<Uuid>, DbErr> {
    let which = match client {
        ClientRef::Id(id) => app_clients::Column::Id.eq(id),
        ClientRef::ClientId(client_id) => app_clients::Column::ClientId.eq(client_id),
    };
    let revoked = app_clients::Entity::update_many()
        .col_expr(app_clients::Column::RevokedAt, Expr::current_timestamp())
        .filter(which)
        .filter(app_clients::Column::TenantId.eq(tx.tenant().into_uuid()))
        .filter(app_clients::Column::RevokedAt.is_null())
        .exec_with_returning(tx.conn())
        .await?;
    Ok(revoked.first().map(|client| client.id))
}

/// A client by its public id (for the token endpoint).
#[tracing::instrument(skip_all)]
pub async fn client_by_client_id(
    db: &DatabaseConnection,
    client_id: &str,
) -> Result<Option<app_clients::Model>, DbErr> {
    let tx = lookup_tx(db, Lookup::ClientId(client_id)).await?;
    let client = app_clients::Entity::find()
        .filter(app_clients::Column::ClientId.eq(client_id))
        .one(&tx)
        .await?;
    tx.commit().await?;
    Ok(client)
}
