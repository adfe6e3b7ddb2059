//! `caravan` — the platform operator's command line.
//!
//! ```text
//! caravan up [--no-demo] [--no-test-payments] [--allow-internal-webhooks] [--verbose]
//!                                        run the whole platform (gateway on CARAVAN_PORT, default 8080);
//!                                        logs go to a file, or to the console with --verbose
//! caravan secrets                        print a fresh set of secrets as an env file
//! caravan openapi write|check            write the contract into openapi/, or check it is current
//! caravan backup DIR                     dump every database of the installation into DIR, with a manifest
//! caravan restore DIR                    restore a backup into new databases (CARAVAN_DATABASE_PREFIX)
//! caravan seed-demo                      create the demo cooperatives (when the platform is empty)
//! caravan tenants list
//! caravan tenants create NAME SLUG OWNER_EMAIL [PLAN]
//! caravan applications list
//! caravan applications approve ID
//! caravan operators create EMAIL         (password from CARAVAN_NEW_OPERATOR_PASSWORD)
//! caravan keys rotate
//! caravan events parked SERVICE           list events a service could not handle
//! caravan events resend SERVICE PRODUCER SEQ
//! ```
//!
//! Commands other than `up` call the platform at `CARAVAN_URL` (default
//! `http://localhost:8080`) as the operator `CARAVAN_OPERATOR_EMAIL` with
//! `CARAVAN_OPERATOR_PASSWORD` (default: the password `caravan up` generated for this
//! installation, read from its install database).

use caravan_cli::api::Api;
use caravan_cli::commands::{self, Operator};
use caravan_cli::demo;
use caravan_cli::platform::{Options, Platform, Relaxed, preflight};
use caravan_cli::secrets::InstallSecrets;
use caravan_shared::config::{Environment, Source};
use std::process::ExitCode;

const DEMO_OPERATOR: &str = "operator@caravan.example.cn";

fn env(name: &str, default: &str) -> String {
    Environment.get(name).unwrap_or_else(|| default.to_owned())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match words.as_slice() {
        ["up", flags @ ..] => up(flags).await,
        ["secrets"] => {
            print!("{}", InstallSecrets::generate().env_lines());
            Ok(())
        }
        ["openapi", action] => commands::openapi(action),
        ["backup", dir] => backup(dir).await,
        ["restore", dir] => restore(dir).await,
        other => {
            let password = match Environment.get("CARAVAN_OPERATOR_PASSWORD") {
                Some(password) => Ok(password),
                None => InstallSecrets::load(&admin_url(), &database_prefix())
                    .await
                    .and_then(|found| {
                        found.map(|secrets| secrets.demo_password).ok_or_else(|| {
                            anyhow::anyhow!(
                                "no installation of `caravan up` on this machine to read the operator's password from: set CARAVAN_OPERATOR_PASSWORD"
                            )
                        })
                    }),
            };
            let operator = password.map(|password| Operator {
                email: env("CARAVAN_OPERATOR_EMAIL", DEMO_OPERATOR),
                password,
            });
            match operator.and_then(|operator| {
                Api::new(&env("CARAVAN_URL", "http://localhost:8080")).map(|api| (api, operator))
            }) {
                Ok((api, operator)) => {
                    let maildev = env("CARAVAN_MAILDEV_URL", "http://127.0.0.1:1080");
                    let new_operator_password = Environment.get("CARAVAN_NEW_OPERATOR_PASSWORD");
                    commands::run(
                        &api,
                        &operator,
                        &maildev,
                        new_operator_password.as_deref(),
                        other,
                    )
                    .await
                }
                Err(error) => Err(error),
            }
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("caravan: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `caravan backup DIR`.
async fn backup(dir: &str) -> anyhow::Result<()> {
    let prefix = database_prefix();
    let manifest = caravan_cli::backup::backup(&admin_url(), &prefix, dir.as_ref()).await?;
    for database in &manifest.databases {
        println!(
            "  {:<8} {} → {} ({} bytes, {} migrations)",
            database.name,
            database.database,
            database.file,
            database.bytes,
            database.migrations.len()
        );
    }
    println!(
        "Backed up {} databases of {prefix} into {dir} ({}); the install database holds this installation's secrets: keep the backup as safe as them.",
        manifest.databases.len(),
        caravan_cli::backup::MANIFEST
    );
    Ok(())
}

/// `caravan restore DIR`.
async fn restore(dir: &str) -> anyhow::Result<()> {
    let prefix = database_prefix();
    let manifest = caravan_cli::backup::restore(&admin_url(), &prefix, dir.as_ref()).await?;
    println!(
        "Restored {} databases from {dir} (backed up {} from {}_*) as {prefix}_*; start the platform on them with CARAVAN_DATABASE_PREFIX={prefix}.",
        manifest.databases.len(),
        manifest.created_at,
        manifest.database_prefix
    );
    Ok(())
}

/// Sends the platform's logs (JSON lines, one per request and event) to a file in
/// the system's temporary folder, so the console shows only what a person needs.
fn log_to_file(prefix: &str) -> anyhow::Result<std::path::PathBuf> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let path = std::env::temp_dir().join(format!("caravan-{prefix}.log"));
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|error| anyhow::anyhow!("log file {}: {error}", path.display()))?;
    let _ = tracing_subscriber::registry()
        .with(caravan_shared::telemetry::filter())
        .with(caravan_shared::telemetry::json_layer(
            std::sync::Mutex::new(file),
        ))
        .try_init();
    Ok(path)
}

/// The local PostgreSQL as its owner (where the install database lives).
fn admin_url() -> String {
    let host = env("CARAVAN_POSTGRES_HOST", "127.0.0.1:5432");
    format!("postgres://postgres@{host}/postgres")
}

fn database_prefix() -> String {
    env("CARAVAN_DATABASE_PREFIX", "caravan")
}

async fn up(flags: &[&str]) -> anyhow::Result<()> {
    let known = [
        "--no-demo",
        "--no-test-payments",
        "--allow-internal-webhooks",
        "--verbose",
    ];
    if let Some(unknown) = flags.iter().find(|flag| !known.contains(flag)) {
        anyhow::bail!(
            "unknown option {unknown}; caravan up takes {}",
            known.join(", ")
        );
    }
    let with_demo = !flags.contains(&"--no-demo");
    let port: u16 = env("CARAVAN_PORT", "8080")
        .parse()
        .map_err(|_| anyhow::anyhow!("CARAVAN_PORT must be a port number"))?;
    let database_prefix = database_prefix();
    let secrets = InstallSecrets::load_or_create(&admin_url(), &database_prefix).await?;
    let options = Options {
        gateway_port: port,
        database_prefix,
        redis_prefix: env("REDIS_PREFIX", "caravan"),
        operator_email: env("CARAVAN_OPERATOR_EMAIL", DEMO_OPERATOR),
        operator_password: Environment
            .get("CARAVAN_OPERATOR_PASSWORD")
            .unwrap_or_else(|| secrets.demo_password.clone()),
        secrets,
        relaxed: Relaxed {
            test_payments: !flags.contains(&"--no-test-payments"),
            internal_webhooks: flags.contains(&"--allow-internal-webhooks"),
        },
        extra: vec![
            ("LOG_FORMAT".into(), env("LOG_FORMAT", "pretty")),
            // One process on one machine: nothing routes around it while it stops,
            // so Ctrl-C stops it at once.
            ("SHUTDOWN_DRAIN_MS".into(), env("SHUTDOWN_DRAIN_MS", "0")),
        ],
        check_connections: true,
    };
    preflight(&options)?;
    let log_file = if flags.contains(&"--verbose") {
        caravan_shared::telemetry::init(caravan_shared::config::LogFormat::Pretty);
        None
    } else {
        Some(log_to_file(&options.database_prefix)?)
    };
    println!(
        "Starting Caravan (databases {}_*, Redis prefix {}) …",
        options.database_prefix, options.redis_prefix
    );
    let platform = Platform::start(&options).await?;
    let api = Api::new(&format!("http://127.0.0.1:{port}"))?;
    let maildev = env("CARAVAN_MAILDEV_URL", "http://127.0.0.1:1080");
    let token = api
        .login(&options.operator_email, &options.operator_password, None)
        .await?;
    if with_demo && demo::is_empty(&api, &token).await? {
        println!("Creating the demo cooperatives …");
        demo::seed(&api, &maildev, &token, &options.operator_password).await?;
    }
    println!();
    println!("Caravan is running.");
    println!("  Shops                {}/", platform.url);
    for slug in api.shop_slugs().await.unwrap_or_default() {
        println!("    {}/s/{slug}/zh-CN/", platform.url);
    }
    println!("  Shop admin           {}/admin", platform.url);
    println!("  API (gateway)        {}/v1/shops", platform.url);
    for (service, url) in &platform.services {
        println!("  {:<20} {url}/docs", format!("{service} API docs"));
    }
    println!("  Mail sent (sink)     {maildev}");
    match &log_file {
        Some(path) => println!(
            "  Logs                 {} (`caravan up --verbose` shows them here)",
            path.display()
        ),
        None => println!("  Logs                 below"),
    }
    println!();
    println!("Demo logins (password {}):", options.operator_password);
    for (what, email) in demo::logins(&options.operator_email) {
        println!("  {what:<28} {email}");
    }
    println!();
    println!(
        "Secrets of this installation (service secret, signing-key encryption key, payment webhook secret, demo password): generated on the first start, kept in the database {}_install.",
        options.database_prefix
    );
    println!("Changed from the defaults for this local run:");
    for line in options.relaxed.describe() {
        println!("  {line}");
    }
    println!();
    println!("Press Ctrl-C to stop.");
    platform.wait().await
}
