//! `caravan-auth`: runs the service; `caravan-auth create-operator EMAIL` creates a
//! platform operator (password read from standard input), and
//! `caravan-auth rotate-keys` rotates the stored signing keys; `caravan-auth migrate`
//! provisions and migrates the database and exits.

use caravan_shared::config::{ServiceName, Settings};
use std::process::ExitCode;

#[actix_web::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        None => caravan_shared::service::run(ServiceName::Auth, caravan_auth::startup::build).await,
        Some(command) => match command_line(command, &args[1..]).await {
            Ok(message) => {
                println!("{message}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("caravan-auth {command}: {error:#}");
                ExitCode::FAILURE
            }
        },
    }
}

async fn command_line(command: &str, args: &[String]) -> anyhow::Result<String> {
    let settings = Settings::from_env(ServiceName::Auth)?;
    let db = caravan_shared::db::provision::<caravan_auth::migrations::Migrations>(
        &settings.migration_database_url,
        &settings.database_url,
        2,
    )
    .await?;
    match command {
        "create-operator" => {
            let email = args.first().ok_or_else(|| {
                anyhow::anyhow!("usage: caravan-auth create-operator EMAIL < password")
            })?;
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let hashing = caravan_auth::domain::password::PasswordHashing::owasp()?;
            caravan_auth::startup::ensure_operator(
                &db,
                &hashing,
                email,
                password.trim_end_matches(['\r', '\n']),
            )
            .await?;
            Ok(format!("{email} is a platform operator"))
        }
        "migrate" => Ok("database migrated".to_owned()),
        "rotate-keys" => {
            let encryption = caravan_auth::keys::EncryptionKey::from_source(&*settings.source.0)?;
            let keys = caravan_auth::keys::KeyRing::load(
                &db,
                None,
                encryption,
                &settings.jwt_issuer,
                &settings.jwt_audience,
            )
            .await?;
            let kid = keys.rotate().await?;
            Ok(format!("new signing key {kid}"))
        }
        other => anyhow::bail!(
            "unknown command {other:?}; commands: create-operator, rotate-keys, migrate"
        ),
    }
}
