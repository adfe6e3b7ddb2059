//! The installation's own secrets. `caravan up` generates them on the first start
//! and keeps them with the data: in a database of their own (`<prefix>_install`) on
//! the same PostgreSQL server, readable by its owner only, never by the services'
//! runtime roles. Dropping the data drops them; a restart finds them again. Nothing
//! here has a default that anybody else could know.

use anyhow::Context;
use caravan_shared::config::{self, Source};
use caravan_shared::db;
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// What one installation keeps secret.
#[derive(Clone)]
pub struct InstallSecrets {
    /// `SERVICE_CLIENT_SECRET`, shared by the services and the auth service.
    pub service_client_secret: String,
    /// `SIGNING_KEY_ENCRYPTION_KEY`: the auth service's signing keys are stored
    /// encrypted with it.
    pub signing_key_encryption_key: String,
    /// `PAYMENT_TEST_WEBHOOK_SECRET`, for the test card gateway when it is on.
    pub payment_test_webhook_secret: String,
    /// The password of the demo accounts (and the operator's, unless set).
    pub demo_password: String,
}

impl std::fmt::Debug for InstallSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstallSecrets(..)")
    }
}

const NAMES: [&str; 4] = [
    "SERVICE_CLIENT_SECRET",
    "SIGNING_KEY_ENCRYPTION_KEY",
    "PAYMENT_TEST_WEBHOOK_SECRET",
    "CARAVAN_DEMO_PASSWORD",
];

impl InstallSecrets {
    /// Fresh secrets, for a platform that lives as long as one process (tests).
    pub fn generate() -> Self {
        Self {
            service_client_secret: config::generate_secret(),
            signing_key_encryption_key: config::generate_secret(),
            payment_test_webhook_secret: config::generate_secret(),
            demo_password: demo_password(),
        }
    }

    fn from_values(mut value: impl FnMut(&str) -> Option<String>) -> anyhow::Result<Self> {
        let mut take = |name: &str| value(name).with_context(|| format!("no {name}"));
        Ok(Self {
            service_client_secret: take("SERVICE_CLIENT_SECRET")?,
            signing_key_encryption_key: take("SIGNING_KEY_ENCRYPTION_KEY")?,
            payment_test_webhook_secret: take("PAYMENT_TEST_WEBHOOK_SECRET")?,
            demo_password: take("CARAVAN_DEMO_PASSWORD")?,
        })
    }

    /// The installation's secrets: a value set in the environment wins (and is
    /// checked like any secret setting); the rest are read from the install
    /// database, generated and stored there on the first start.
    pub async fn load_or_create(admin_url: &str, database_prefix: &str) -> anyhow::Result<Self> {
        let database = format!("{database_prefix}_install");
        let admin = db::connect(admin_url, 1)
            .await
            .with_context(|| format!("connecting to PostgreSQL as its owner ({admin_url})"))?;
        db::ensure_database(&admin, &database).await?;
        admin.close().await.ok();
        let install_url = db::PgUrl::parse(admin_url)?.with_database(&database);
        let store = db::connect(&install_url, 1).await?;
        store
            .execute_unprepared(
                "CREATE TABLE IF NOT EXISTS install_secrets (
                     name text PRIMARY KEY,
                     value text NOT NULL,
                     created_at timestamptz NOT NULL DEFAULT now()
                 );
                 REVOKE ALL ON install_secrets FROM PUBLIC;",
            )
            .await
            .context("creating install_secrets")?;
        let fresh = Self::generate();
        let generated = |name: &str| match name {
            "SERVICE_CLIENT_SECRET" => fresh.service_client_secret.clone(),
            "SIGNING_KEY_ENCRYPTION_KEY" => fresh.signing_key_encryption_key.clone(),
            "PAYMENT_TEST_WEBHOOK_SECRET" => fresh.payment_test_webhook_secret.clone(),
            _ => fresh.demo_password.clone(),
        };
        for name in NAMES {
            // Two starts at once keep whichever was stored first.
            store
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "INSERT INTO install_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
                    [name.into(), generated(name).into()],
                ))
                .await?;
        }
        store.close().await.ok();
        let mut secrets = Self::load(admin_url, database_prefix)
            .await?
            .context("the installation's secrets were not stored")?;
        let environment = config::Environment;
        for (name, field) in [
            ("SERVICE_CLIENT_SECRET", &mut secrets.service_client_secret),
            (
                "SIGNING_KEY_ENCRYPTION_KEY",
                &mut secrets.signing_key_encryption_key,
            ),
            (
                "PAYMENT_TEST_WEBHOOK_SECRET",
                &mut secrets.payment_test_webhook_secret,
            ),
        ] {
            if let Some(value) = environment.get(name) {
                config::check_secret(name, &value)?;
                *field = value;
            }
        }
        Ok(secrets)
    }

    /// The secrets of the installation on this PostgreSQL server, read only: `None`
    /// when `caravan up` never ran here with this prefix.
    pub async fn load(admin_url: &str, database_prefix: &str) -> anyhow::Result<Option<Self>> {
        let database = format!("{database_prefix}_install");
        let admin = db::connect(admin_url, 1)
            .await
            .with_context(|| format!("connecting to PostgreSQL as its owner ({admin_url})"))?;
        let exists = admin
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT 1 AS found FROM pg_database WHERE datname = $1",
                [database.clone().into()],
            ))
            .await?
            .is_some();
        admin.close().await.ok();
        if !exists {
            return Ok(None);
        }
        let store = db::connect(&db::PgUrl::parse(admin_url)?.with_database(&database), 1).await?;
        let mut stored = std::collections::HashMap::new();
        for row in store
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT name, value FROM install_secrets",
            ))
            .await?
        {
            stored.insert(
                row.try_get::<String>("", "name")?,
                row.try_get::<String>("", "value")?,
            );
        }
        store.close().await.ok();
        Ok(Self::from_values(|name| stored.get(name).cloned()).ok())
    }

    /// The secrets as environment lines (`NAME=value`), for an env file.
    pub fn env_lines(&self) -> String {
        format!(
            "SERVICE_CLIENT_SECRET={}\nSIGNING_KEY_ENCRYPTION_KEY={}\nPAYMENT_TEST_WEBHOOK_SECRET={}\n",
            self.service_client_secret,
            self.signing_key_encryption_key,
            self.payment_test_webhook_secret
        )
    }
}

/// A password a person can type: four groups of random lowercase letters and digits.
fn demo_password() -> String {
    let secret = config::generate_secret();
    let letters: Vec<char> = secret
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(16)
        .collect();
    letters
        .chunks(4)
        .map(|chunk| chunk.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::{InstallSecrets, demo_password};

    #[test]
    fn generated_secrets_pass_the_services_checks() {
        let secrets = InstallSecrets::generate();
        for (name, value) in [
            ("SERVICE_CLIENT_SECRET", &secrets.service_client_secret),
            (
                "SIGNING_KEY_ENCRYPTION_KEY",
                &secrets.signing_key_encryption_key,
            ),
            (
                "PAYMENT_TEST_WEBHOOK_SECRET",
                &secrets.payment_test_webhook_secret,
            ),
        ] {
            assert!(
                caravan_shared::config::check_secret(name, value).is_ok(),
                "{name}"
            );
        }
        let password = demo_password();
        assert_eq!(password.len(), 19, "{password}");
        assert_ne!(password, demo_password());
    }
}
