//! The signing keys: loaded from `SIGNING_KEYS` when configured, otherwise generated
//! once and kept in the database, where an operator can rotate them. The JWKS
//! publishes the current key and every key retired in the last day, so tokens signed
//! before a rotation keep verifying until they expire.

use crate::store::entities::signing_keys;
use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use caravan_shared::identity::{SigningKey, TokenSigner};
use chrono::Utc;
use jsonwebtoken::jwk::JwkSet;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter, QueryOrder, Statement, TransactionTrait,
};
use std::time::Duration;
use tokio::sync::RwLock;

/// How long a retired key stays published (longer than any access token lives).
const RETIRED_KEYS_PUBLISHED_FOR: chrono::Duration = chrono::Duration::hours(24);

/// Where the keys come from.
enum Origin {
    /// `SIGNING_KEYS`: rotated by redeploying with a new first key.
    Configured,
    /// The `signing_keys` table: rotated through the API or the CLI.
    Database(DatabaseConnection),
}

/// The current signer and the published keys.
pub struct KeyRing {
    origin: Origin,
    issuer: String,
    audience: String,
    signer: RwLock<TokenSigner>,
}

/// Why a rotation was refused.
#[derive(Debug, thiserror::Error)]
pub enum RotationError {
    /// Keys come from configuration.
    #[error("signing keys come from SIGNING_KEYS; rotate by deploying a new first key")]
    Configured,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

impl KeyRing {
    /// Keys from `configured` (comma-separated base64 PKCS#8 Ed25519 keys, current
    /// first) or, when empty, from the database (a key is generated on first start).
    pub async fn load(
        db: &DatabaseConnection,
        configured: Option<&str>,
        issuer: &str,
        audience: &str,
    ) -> anyhow::Result<Self> {
        let (origin, signer) = match configured {
            Some(list) => {
                let mut keys = list
                    .split(',')
                    .map(str::trim)
                    .filter(|key| !key.is_empty())
                    .map(|key| {
                        let der = STANDARD
                            .decode(key)
                            .context("invalid setting SIGNING_KEYS: not base64")?;
                        SigningKey::from_pkcs8(&der).context("invalid setting SIGNING_KEYS")
                    })
                    .collect::<anyhow::Result<Vec<_>>>()?
                    .into_iter();
                let current = keys
                    .next()
                    .context("invalid setting SIGNING_KEYS: no key")?;
                (
                    Origin::Configured,
                    TokenSigner::new(current, keys.collect(), issuer, audience),
                )
            }
            None => {
                let signer = stored_signer(db, issuer, audience).await?;
                (Origin::Database(db.clone()), signer)
            }
        };
        Ok(Self {
            origin,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            signer: RwLock::new(signer),
        })
    }

    /// The signer of new tokens.
    pub async fn signer(&self) -> TokenSigner {
        self.signer.read().await.clone()
    }

    /// Re-reads stored keys (another replica may have rotated).
    pub async fn reload(&self) -> anyhow::Result<()> {
        if let Origin::Database(db) = &self.origin {
            let fresh = stored_signer(db, &self.issuer, &self.audience).await?;
            *self.signer.write().await = fresh;
        }
        Ok(())
    }

    /// The published keys, fresh from storage.
    pub async fn jwks(&self) -> anyhow::Result<JwkSet> {
        self.reload().await?;
        Ok(self.signer.read().await.jwks())
    }

    /// Generates a new current key; the old one is retired but stays published.
    pub async fn rotate(&self) -> Result<String, RotationError> {
        let Origin::Database(db) = &self.origin else {
            return Err(RotationError::Configured);
        };
        let key = SigningKey::generate()?;
        let tx = db.begin().await.map_err(anyhow::Error::from)?;
        signing_keys::Entity::update_many()
            .col_expr(signing_keys::Column::RetiredAt, Expr::current_timestamp())
            .filter(signing_keys::Column::RetiredAt.is_null())
            .exec(&tx)
            .await
            .map_err(anyhow::Error::from)?;
        insert_key(&tx, &key).await?;
        tx.commit().await.map_err(anyhow::Error::from)?;
        self.reload().await?;
        tracing::info!(kid = key.kid(), "signing key rotated");
        Ok(key.kid().to_owned())
    }

    /// Keeps this replica's signer current with rotations made elsewhere.
    pub fn spawn_reload(self: std::sync::Arc<Self>) {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(30)).await;
                if let Err(error) = self.reload().await {
                    tracing::warn!(error = %format!("{error:#}"), "signing keys not reloaded");
                }
            }
        });
    }
}

async fn insert_key<C: ConnectionTrait>(conn: &C, key: &SigningKey) -> anyhow::Result<()> {
    signing_keys::ActiveModel {
        kid: Set(key.kid().to_owned()),
        pkcs8: Set(key.pkcs8().to_vec()),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The stored keys as a signer, generating the first key when there is none.
async fn stored_signer(
    db: &DatabaseConnection,
    issuer: &str,
    audience: &str,
) -> anyhow::Result<TokenSigner> {
    let tx = db.begin().await?;
    // Two replicas starting together must not both generate a first key.
    tx.query_one_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtext('caravan_signing_keys'))::text AS locked",
    ))
    .await?;
    let cutoff = Utc::now() - RETIRED_KEYS_PUBLISHED_FOR;
    let rows = signing_keys::Entity::find()
        .filter(
            sea_orm::Condition::any()
                .add(signing_keys::Column::RetiredAt.is_null())
                .add(signing_keys::Column::RetiredAt.gt(cutoff)),
        )
        .order_by_desc(signing_keys::Column::CreatedAt)
        .all(&tx)
        .await?;
    let mut current = None;
    let mut previous = Vec::new();
    for row in rows {
        let key = SigningKey::from_pkcs8(&row.pkcs8)?;
        if row.retired_at.is_none() && current.is_none() {
            current = Some(key);
        } else {
            previous.push(key);
        }
    }
    let current = match current {
        Some(key) => key,
        None => {
            let key = SigningKey::generate()?;
            insert_key(&tx, &key).await?;
            tracing::info!(kid = key.kid(), "signing key generated");
            key
        }
    };
    tx.commit().await?;
    Ok(TokenSigner::new(current, previous, issuer, audience))
}
