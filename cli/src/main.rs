//! `caravan` — the platform operator's command line.
//!
//! ```text
//! caravan up [--no-demo]                 run the whole platform (gateway on CARAVAN_PORT, default 8080)
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
//! `CARAVAN_OPERATOR_PASSWORD`.

use caravan_cli::api::Api;
use caravan_cli::commands::{self, Operator};
use caravan_cli::demo;
use caravan_cli::platform::{Options, Platform, preflight};
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
        ["up", rest @ ..] => up(!rest.contains(&"--no-demo")).await,
        other => {
            let operator = Operator {
                email: env("CARAVAN_OPERATOR_EMAIL", DEMO_OPERATOR),
                password: env("CARAVAN_OPERATOR_PASSWORD", demo::PASSWORD),
            };
            match Api::new(&env("CARAVAN_URL", "http://localhost:8080")) {
                Ok(api) => {
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

async fn up(with_demo: bool) -> anyhow::Result<()> {
    let port: u16 = env("CARAVAN_PORT", "8080")
        .parse()
        .map_err(|_| anyhow::anyhow!("CARAVAN_PORT must be a port number"))?;
    let options = Options {
        gateway_port: port,
        database_prefix: env("CARAVAN_DATABASE_PREFIX", "caravan"),
        redis_prefix: env("REDIS_PREFIX", "caravan"),
        operator_email: env("CARAVAN_OPERATOR_EMAIL", DEMO_OPERATOR),
        operator_password: env("CARAVAN_OPERATOR_PASSWORD", demo::PASSWORD),
        extra: vec![("LOG_FORMAT".into(), env("LOG_FORMAT", "pretty"))],
    };
    preflight(&options)?;
    caravan_shared::telemetry::init(caravan_shared::config::LogFormat::Pretty);
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
        demo::seed(&api, &maildev, &token).await?;
    }
    println!();
    println!("Caravan is running.");
    println!("  API (gateway)        {}", platform.url);
    for (service, url) in &platform.services {
        println!("  {:<20} {url}/docs", format!("{service} API docs"));
    }
    println!("  Mail sent (sink)     {maildev}");
    println!(
        "  Storefront example   {}/v1/shops/turpan-raisins/products?locale=en",
        platform.url
    );
    println!();
    println!("Demo logins (password {}):", options.operator_password);
    for (what, email) in demo::logins(&options.operator_email) {
        println!("  {what:<28} {email}");
    }
    println!();
    println!("Press Ctrl-C to stop.");
    platform.wait().await
}
