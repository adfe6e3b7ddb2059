//! Queries of the auth database. Tenant-owned rows (memberships, invitations, app
//! clients, refresh tokens) are reached through a [`TenantTx`], or through a lookup
//! transaction that presents the user, token or client the row policy admits.

mod app_clients;
mod email_tokens;
pub mod entities;
mod invitations;
mod memberships;
mod refresh_tokens;
mod users;

pub use app_clients::*;
pub use email_tokens::*;
pub use invitations::*;
pub use memberships::*;
pub use refresh_tokens::*;
pub use users::*;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, Statement,
    TransactionTrait,
};
use uuid::Uuid;

/// What a lookup transaction presents to the row policies.
pub enum Lookup<'a> {
    /// Acting for a user: their memberships in every shop.
    User(Uuid),
    /// Holding an invitation token (its hash).
    TokenHash(&'a str),
    /// Naming an app client.
    ClientId(&'a str),
}

/// Opens a transaction that sees the rows `lookup` admits, and no others.
#[tracing::instrument(skip_all)]
pub async fn lookup_tx(
    db: &DatabaseConnection,
    lookup: Lookup<'_>,
) -> Result<DatabaseTransaction, DbErr> {
    let (setting, value) = match lookup {
        Lookup::User(id) => ("app.user_id", id.to_string()),
        Lookup::TokenHash(hash) => ("app.token_hash", hash.to_owned()),
        Lookup::ClientId(id) => ("app.client_id", id.to_owned()),
    };
    let tx = db.begin().await?;
    tx.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config($1, $2, true)",
        [setting.into(), value.into()],
    ))
    .await?;
    Ok(tx)
}

/// Lets `tx`, a transaction, act for `user_id` from here on (`app.user_id`): the row
/// policies then show the user's memberships in every shop and their refresh tokens.
#[tracing::instrument(skip_all, fields(user_id = %user_id))]
pub async fn act_for_user<C: ConnectionTrait>(tx: &C, user_id: Uuid) -> Result<(), DbErr> {
    tx.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.user_id', $1, true)",
        [user_id.to_string().into()],
    ))
    .await?;
    Ok(())
}

/// Presents a refresh token to the row policy (`app.refresh_token_hash`): `tx`, a
/// transaction, then sees that one token, whoever's it is.
async fn present_token<C: ConnectionTrait>(tx: &C, token_hash: &str) -> Result<(), DbErr> {
    tx.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT set_config('app.refresh_token_hash', $1, true)",
        [token_hash.into()],
    ))
    .await?;
    Ok(())
}

pub use caravan_shared::db::is_duplicate;
