//! Builds the auth service's application from its settings.

use crate::domain::Email;
use crate::domain::password::{NewPassword, PasswordHashing};
use crate::events::TenantEvents;
use crate::keys::{EncryptionKey, KeyRing};
use crate::migrations::Migrations;
use crate::routes::{self, AuthState};
use crate::store::{self, NewUser};
use crate::throttle::LoginThrottle;
use actix_web::web;
use anyhow::Context;
use caravan_shared::config::{ServiceName, Settings, setting};
use caravan_shared::events::consumer::Handlers;
use caravan_shared::service::{ApiInfo, Application, ServiceContext};
use caravan_shared::tenant_status::TenantStatusHandler;
use sea_orm::{DatabaseConnection, TransactionTrait};
use std::sync::Arc;

/// The service's OpenAPI title and description.
pub const API: ApiInfo = ApiInfo {
    title: "Caravan auth service",
    description: "Identities, credentials, memberships, app clients, access and refresh tokens, and the JWKS every service verifies tokens against.",
};

/// Provisions the database, loads keys, creates the configured operator, starts the
/// consumers and the mail sender, then binds and builds the HTTP application.
pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    let source = settings.source.0.clone();
    let signing_keys: String = setting(&*source, "SIGNING_KEYS", String::new())?;
    let encryption = EncryptionKey::from_source(&*source)?;
    let operator_email: String = setting(&*source, "CARAVAN_OPERATOR_EMAIL", String::new())?;
    let operator_password: String = setting(&*source, "CARAVAN_OPERATOR_PASSWORD", String::new())?;
    let memory = setting(&*source, "ARGON2_MEMORY_KIB", 19 * 1024u32)?;
    let iterations = setting(&*source, "ARGON2_ITERATIONS", 2u32)?;
    let hashing = PasswordHashing::with_params(memory, iterations, 1)
        .context("invalid setting ARGON2_MEMORY_KIB or ARGON2_ITERATIONS")?;

    let context = ServiceContext::start::<Migrations>(settings).await?;
    if !operator_email.is_empty() || !operator_password.is_empty() {
        ensure_operator(&context.db, &hashing, &operator_email, &operator_password).await?;
    }
    let keys = Arc::new(
        KeyRing::load(
            &context.db,
            Some(signing_keys.as_str()).filter(|keys| !keys.is_empty()),
            encryption,
            &context.settings.jwt_issuer,
            &context.settings.jwt_audience,
        )
        .await?,
    );
    keys.clone().spawn_reload();
    context.send_mail()?;
    context.keep_only_while_needed(&crate::retention::RULES)?;
    context.subscribe(
        ServiceName::Tenant,
        Arc::new(Handlers(vec![
            Arc::new(TenantStatusHandler),
            Arc::new(TenantEvents {
                public_url: context.settings.public_url.clone(),
            }),
        ])),
    )?;
    let state = web::Data::new(AuthState {
        throttle: LoginThrottle::new(context.redis.clone()),
        context: context.clone(),
        hashing,
        keys,
    });
    Application::serve(&context, API, move |config| {
        config.app_data(state.clone());
        routes::configure(config);
    })
}

/// Creates the platform operator account, or makes an existing account one. Never
/// changes the password of an account whose email is verified; an unverified one's is
/// replaced by `password` (whoever registered the address never proved it theirs).
/// Both values are required together.
pub async fn ensure_operator(
    db: &DatabaseConnection,
    hashing: &PasswordHashing,
    raw_email: &str,
    password: &str,
) -> anyhow::Result<()> {
    let email = Email::parse(raw_email, "CARAVAN_OPERATOR_EMAIL").map_err(|error| {
        anyhow::anyhow!("invalid setting CARAVAN_OPERATOR_EMAIL: {}", error.message)
    })?;
    let password = NewPassword::parse(password, "CARAVAN_OPERATOR_PASSWORD").map_err(|error| {
        anyhow::anyhow!(
            "invalid setting CARAVAN_OPERATOR_PASSWORD: {}",
            error.message
        )
    })?;
    match store::user_by_email(db, &email).await? {
        Some(user) => {
            let new_hash = if user.email_verified_at.is_none() {
                let hashing = hashing.clone();
                let secret = password.expose().to_owned();
                Some(tokio::task::spawn_blocking(move || hashing.hash(&secret)).await??)
            } else {
                None
            };
            let tx = db.begin().await?;
            if let Some(hash) = new_hash {
                // Anyone can register any address: the password of an account whose
                // address was never proved must not become an operator's.
                store::set_password(&tx, user.id, &hash).await?;
                store::revoke_user_sessions(&tx, user.id).await?;
                tracing::warn!(email = %email, "unverified account made operator: its password was replaced");
            }
            store::make_platform_admin(&tx, user.id).await?;
            store::mark_verified(&tx, user.id).await?;
            tx.commit().await?;
        }
        None => {
            let hashing = hashing.clone();
            let secret = password.expose().to_owned();
            let hash = tokio::task::spawn_blocking(move || hashing.hash(&secret)).await??;
            let created = store::insert_user(
                db,
                NewUser {
                    email: &email,
                    display_name: "Platform operator",
                    password_hash: Some(hash),
                    verified: true,
                    platform_admin: true,
                },
            )
            .await;
            match created {
                Ok(_) => tracing::info!(email = %email, "platform operator created"),
                // Another replica created it at the same moment.
                Err(error) if store::is_duplicate(&error) => {}
                Err(error) => return Err(error.into()),
            }
        }
    }
    Ok(())
}
