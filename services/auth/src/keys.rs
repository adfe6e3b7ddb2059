//! The signing keys: loaded from `SIGNING_KEYS` when configured, otherwise generated
//! once and kept in the database, where an operator can rotate them. The JWKS
//! publishes the current key and every key retired in the last day, so tokens signed
//! before a rotation keep verifying until they expire.
//!
//! Stored keys are encrypted at rest with AES-256-GCM under
//! `SIGNING_KEY_ENCRYPTION_KEY`, with the key id as associated data (a sealed key
//! moved to another row does not open). Rows stored in plain before are encrypted at
//! start.

use crate::store::entities::signing_keys;
use anyhow::Context;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use caravan_shared::config::{ConfigError, Source, check_secret};
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

/// The environment variable holding the key that encrypts stored signing keys.
pub const ENCRYPTION_KEY_VARIABLE: &str = "SIGNING_KEY_ENCRYPTION_KEY";

/// The first byte of a sealed key: the format (nonce, ciphertext, tag) and cipher.
const SEALED_V1: u8 = 1;

/// The key that encrypts the stored signing keys (`SIGNING_KEY_ENCRYPTION_KEY`: 32
/// random bytes in base64).
#[derive(Clone)]
pub struct EncryptionKey([u8; 32]);

impl std::fmt::Debug for EncryptionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EncryptionKey(..)")
    }
}

fn refuse(reason: impl Into<String>) -> ConfigError {
    ConfigError {
        variable: ENCRYPTION_KEY_VARIABLE.to_owned(),
        reason: reason.into(),
    }
}

impl EncryptionKey {
    /// Reads `SIGNING_KEY_ENCRYPTION_KEY`: required, no default.
    pub fn from_source(source: &dyn Source) -> Result<Self, ConfigError> {
        let value = source.get(ENCRYPTION_KEY_VARIABLE).ok_or_else(|| {
            refuse(
                "is not set; it has no default (32 random bytes in base64: `openssl rand -base64 32`)",
            )
        })?;
        Self::parse(&value)
    }

    /// Checks a value: 32 bytes in base64, not a published value, not a constant.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let value = value.trim();
        check_secret(ENCRYPTION_KEY_VARIABLE, value)?;
        let bytes = [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD]
            .iter()
            .find_map(|engine| engine.decode(value).ok())
            .ok_or_else(|| {
                refuse("is not base64 (32 random bytes in base64: `openssl rand -base64 32`)")
            })?;
        let key: [u8; 32] = bytes.try_into().map_err(|bytes: Vec<u8>| {
            refuse(format!(
                "must be 32 bytes in base64, not {} (`openssl rand -base64 32`)",
                bytes.len()
            ))
        })?;
        if key.iter().all(|byte| *byte == key[0]) {
            return Err(refuse(
                "is not random (every byte the same); `openssl rand -base64 32` makes one",
            ));
        }
        Ok(Self(key))
    }

    fn cipher(&self) -> anyhow::Result<LessSafeKey> {
        let key = UnboundKey::new(&AES_256_GCM, &self.0)
            .map_err(|_| anyhow::anyhow!("AES-256-GCM key refused"))?;
        Ok(LessSafeKey::new(key))
    }

    /// Encrypts a PKCS#8 key for the row `kid`: version, random nonce, ciphertext and
    /// tag.
    pub fn seal(&self, kid: &str, pkcs8: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| anyhow::anyhow!("no randomness for a nonce"))?;
        let mut in_out = pkcs8.to_vec();
        self.cipher()?
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(kid.as_bytes()),
                &mut in_out,
            )
            .map_err(|_| anyhow::anyhow!("encrypting signing key {kid} failed"))?;
        let mut sealed = Vec::with_capacity(1 + NONCE_LEN + in_out.len());
        sealed.push(SEALED_V1);
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&in_out);
        Ok(sealed)
    }

    /// Decrypts the key of row `kid`; a wrong encryption key is a configuration
    /// error naming the variable.
    pub fn open(&self, kid: &str, sealed: &[u8]) -> anyhow::Result<Vec<u8>> {
        let wrong = || {
            refuse(format!(
                "it does not decrypt the stored signing key {kid}; the keys were encrypted with another value (or the row was altered)"
            ))
        };
        let (version, rest) = sealed.split_first().ok_or_else(wrong)?;
        if *version != SEALED_V1 || rest.len() < NONCE_LEN {
            return Err(wrong().into());
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| wrong())?;
        let mut in_out = ciphertext.to_vec();
        let plain = self
            .cipher()?
            .open_in_place(nonce, Aad::from(kid.as_bytes()), &mut in_out)
            .map_err(|_| wrong())?;
        Ok(plain.to_vec())
    }
}

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
    encryption: EncryptionKey,
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
    /// first) or, when empty, from the database (a key is generated on first start),
    /// where `encryption` seals them. Stored keys still in plain are sealed first.
    pub async fn load(
        db: &DatabaseConnection,
        configured: Option<&str>,
        encryption: EncryptionKey,
        issuer: &str,
        audience: &str,
    ) -> anyhow::Result<Self> {
        seal_plain_keys(db, &encryption).await?;
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
                let signer = stored_signer(db, &encryption, issuer, audience).await?;
                (Origin::Database(db.clone()), signer)
            }
        };
        Ok(Self {
            origin,
            encryption,
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
            let fresh = stored_signer(db, &self.encryption, &self.issuer, &self.audience).await?;
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
        insert_key(&tx, &self.encryption, &key).await?;
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

async fn insert_key<C: ConnectionTrait>(
    conn: &C,
    encryption: &EncryptionKey,
    key: &SigningKey,
) -> anyhow::Result<()> {
    signing_keys::ActiveModel {
        kid: Set(key.kid().to_owned()),
        pkcs8: Set(None),
        sealed: Set(Some(encryption.seal(key.kid(), key.pkcs8())?)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Serialises key generation and sealing across replicas, for the transaction.
async fn lock_keys<C: ConnectionTrait>(tx: &C) -> anyhow::Result<()> {
    tx.query_one_raw(Statement::from_string(
        DbBackend::Postgres,
        "SELECT pg_advisory_xact_lock(hashtext('caravan_signing_keys'))::text AS locked",
    ))
    .await?;
    Ok(())
}

/// Encrypts the keys stored in plain (before encryption at rest existed).
async fn seal_plain_keys(
    db: &DatabaseConnection,
    encryption: &EncryptionKey,
) -> anyhow::Result<()> {
    let tx = db.begin().await?;
    lock_keys(&tx).await?;
    let plain = signing_keys::Entity::find()
        .filter(signing_keys::Column::Pkcs8.is_not_null())
        .all(&tx)
        .await?;
    for row in plain {
        let Some(pkcs8) = row.pkcs8 else { continue };
        signing_keys::Entity::update_many()
            .col_expr(
                signing_keys::Column::Sealed,
                Expr::value(encryption.seal(&row.kid, &pkcs8)?),
            )
            .col_expr(
                signing_keys::Column::Pkcs8,
                Expr::value(Option::<Vec<u8>>::None),
            )
            .filter(signing_keys::Column::Kid.eq(row.kid.as_str()))
            .exec(&tx)
            .await?;
        tracing::info!(kid = row.kid, "stored signing key encrypted at rest");
    }
    tx.commit().await?;
    Ok(())
}

/// The key of a stored row.
fn stored_key(encryption: &EncryptionKey, row: &signing_keys::Model) -> anyhow::Result<SigningKey> {
    let pkcs8 = match (&row.sealed, &row.pkcs8) {
        (Some(sealed), _) => encryption.open(&row.kid, sealed)?,
        (None, Some(plain)) => plain.clone(),
        (None, None) => anyhow::bail!("stored signing key {} is empty", row.kid),
    };
    let key = SigningKey::from_pkcs8(&pkcs8)
        .with_context(|| format!("stored signing key {}", row.kid))?;
    anyhow::ensure!(
        key.kid() == row.kid,
        "stored signing key {} holds the key {}",
        row.kid,
        key.kid()
    );
    Ok(key)
}

/// The stored keys as a signer, generating the first key when there is none.
async fn stored_signer(
    db: &DatabaseConnection,
    encryption: &EncryptionKey,
    issuer: &str,
    audience: &str,
) -> anyhow::Result<TokenSigner> {
    let tx = db.begin().await?;
    // Two replicas starting together must not both generate a first key.
    lock_keys(&tx).await?;
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
        let key = stored_key(encryption, &row)?;
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
            insert_key(&tx, encryption, &key).await?;
            tracing::info!(kid = key.kid(), "signing key generated");
            key
        }
    };
    tx.commit().await?;
    Ok(TokenSigner::new(current, previous, issuer, audience))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn random_key() -> String {
        let mut bytes = [0u8; 32];
        SystemRandom::new().fill(&mut bytes).unwrap();
        STANDARD.encode(bytes)
    }

    #[test]
    fn the_encryption_key_is_required_random_and_32_bytes() {
        let unset = EncryptionKey::from_source(&HashMap::<String, String>::new()).unwrap_err();
        assert_eq!(unset.variable, ENCRYPTION_KEY_VARIABLE);
        assert!(unset.reason.contains("not set"), "{unset}");

        for (value, why) in [
            ("this is not base64 at all, is it? no!", "base64"),
            (&STANDARD.encode([7u8; 48]) as &str, "32 bytes"),
            (&STANDARD.encode([0u8; 32]), "not random"),
            ("replace-with-a-long-random-value", "published"),
        ] {
            let error = EncryptionKey::parse(value).unwrap_err();
            assert_eq!(error.variable, ENCRYPTION_KEY_VARIABLE);
            assert!(error.reason.contains(why), "{value}: {error}");
            assert!(!error.to_string().contains('\n'));
        }
        for published in caravan_shared::config::PUBLISHED_SECRETS {
            assert!(EncryptionKey::parse(published).is_err(), "{published}");
        }

        let good = random_key();
        assert!(EncryptionKey::parse(&good).is_ok());
        let url_safe = URL_SAFE_NO_PAD.encode(STANDARD.decode(&good).unwrap());
        assert!(EncryptionKey::parse(&url_safe).is_ok());
    }

    #[test]
    fn a_sealed_key_opens_only_with_its_key_and_its_kid() {
        let key = SigningKey::generate().unwrap();
        let encryption = EncryptionKey::parse(&random_key()).unwrap();
        let sealed = encryption.seal(key.kid(), key.pkcs8()).unwrap();
        assert_ne!(sealed, key.pkcs8());
        assert!(
            !sealed
                .windows(key.pkcs8().len())
                .any(|window| window == key.pkcs8())
        );
        assert_eq!(encryption.open(key.kid(), &sealed).unwrap(), key.pkcs8());
        // Sealed twice, never the same bytes (a fresh nonce each time).
        assert_ne!(encryption.seal(key.kid(), key.pkcs8()).unwrap(), sealed);

        assert!(encryption.open("another-kid", &sealed).is_err());
        let other = EncryptionKey::parse(&random_key()).unwrap();
        let error = format!("{:#}", other.open(key.kid(), &sealed).unwrap_err());
        assert!(error.contains(ENCRYPTION_KEY_VARIABLE), "{error}");
        let mut tampered = sealed.clone();
        let last = tampered.len() - 1;
        tampered[last] ^= 1;
        assert!(encryption.open(key.kid(), &tampered).is_err());
    }
}
