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
use caravan_cli::platform::{Options, Platform, preflight};
use caravan_cli::{api, demo};
use caravan_shared::config::{Environment, Source};
use serde_json::json;
use std::process::ExitCode;

const DEMO_OPERATOR: &str = "operator@caravan.example.cn";

fn env(name: &str, default: &str) -> String {
    Environment.get(name).unwrap_or_else(|| default.to_owned())
}

async fn operator(api: &Api) -> anyhow::Result<String> {
    let email = env("CARAVAN_OPERATOR_EMAIL", DEMO_OPERATOR);
    let password = env("CARAVAN_OPERATOR_PASSWORD", demo::PASSWORD);
    api.login(&email, &password, None).await
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match words.as_slice() {
        ["up", rest @ ..] => up(!rest.contains(&"--no-demo")).await,
        other => command(other).await,
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

async fn command(words: &[&str]) -> anyhow::Result<()> {
    let api = Api::new(&env("CARAVAN_URL", "http://localhost:8080"))?;
    match words {
        ["seed-demo"] => {
            let token = operator(&api).await?;
            if demo::is_empty(&api, &token).await? {
                demo::seed(
                    &api,
                    &env("CARAVAN_MAILDEV_URL", "http://127.0.0.1:1080"),
                    &token,
                )
                .await?;
                println!("demo data created");
            } else {
                println!("the platform already has shops; nothing created");
            }
        }
        ["tenants", "list"] => {
            let token = operator(&api).await?;
            let mut cursor: Option<String> = None;
            loop {
                let path = match &cursor {
                    Some(cursor) => format!("/v1/tenants?limit=100&cursor={cursor}"),
                    None => "/v1/tenants?limit=100".to_owned(),
                };
                let page = api.get(&path, Some(&token)).await?;
                for tenant in page["items"].as_array().into_iter().flatten() {
                    println!(
                        "{}  {:<24} {:<10} {:<9} {}",
                        tenant["id"].as_str().unwrap_or_default(),
                        tenant["slug"].as_str().unwrap_or_default(),
                        tenant["status"].as_str().unwrap_or_default(),
                        tenant["plan"].as_str().unwrap_or_default(),
                        tenant["name"].as_str().unwrap_or_default()
                    );
                }
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = Some(next.to_owned()),
                    None => break,
                }
            }
        }
        ["tenants", "create", name, slug, owner, rest @ ..] => {
            let token = operator(&api).await?;
            let plan = rest.first().copied().unwrap_or("free");
            let tenant = api
                .post("/v1/tenants", Some(&token), &json!({"name": name, "slug": slug, "owner_email": owner, "plan": plan, "region": "Xinjiang"}))
                .await?;
            println!(
                "created {} ({}); the owner was emailed an invitation",
                tenant["slug"].as_str().unwrap_or_default(),
                tenant["id"].as_str().unwrap_or_default()
            );
        }
        ["applications", "list"] => {
            let token = operator(&api).await?;
            let page = api
                .get(
                    "/v1/tenants/applications?status=pending&limit=100",
                    Some(&token),
                )
                .await?;
            for application in page["items"].as_array().into_iter().flatten() {
                println!(
                    "{}  {:<24} {:<9} {} <{}>",
                    application["id"].as_str().unwrap_or_default(),
                    application["slug"].as_str().unwrap_or_default(),
                    application["status"].as_str().unwrap_or_default(),
                    application["shop_name"].as_str().unwrap_or_default(),
                    application["email"].as_str().unwrap_or_default()
                );
            }
        }
        ["applications", "approve", id] => {
            let token = operator(&api).await?;
            let tenant = api
                .post(
                    &format!("/v1/tenants/applications/{id}/approve"),
                    Some(&token),
                    &json!({}),
                )
                .await?;
            println!(
                "approved: shop {} is {}",
                tenant["slug"].as_str().unwrap_or_default(),
                tenant["status"].as_str().unwrap_or_default()
            );
        }
        ["operators", "create", email] => {
            let token = operator(&api).await?;
            let password = Environment
                .get("CARAVAN_NEW_OPERATOR_PASSWORD")
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "set CARAVAN_NEW_OPERATOR_PASSWORD to the new operator's password"
                    )
                })?;
            api.post(
                "/v1/auth/operators",
                Some(&token),
                &json!({"email": email, "password": password}),
            )
            .await?;
            println!("operator {email} created");
        }
        ["keys", "rotate"] => {
            let token = operator(&api).await?;
            let keys = api
                .post("/v1/auth/keys/rotate", Some(&token), &json!({}))
                .await?;
            println!("signing key rotated: {}", keys);
        }
        ["events", "parked", service] => {
            let token = operator(&api).await?;
            let parked = api
                .get(
                    &format!("/v1/operations/{service}/parked-events"),
                    Some(&token),
                )
                .await?;
            for event in parked["items"].as_array().into_iter().flatten() {
                println!(
                    "{:<8} {:>8}  {:<22} {} — {}",
                    event["producer"].as_str().unwrap_or_default(),
                    event["seq"],
                    event["event_type"].as_str().unwrap_or_default(),
                    event["parked_at"].as_str().unwrap_or_default(),
                    event["error"].as_str().unwrap_or_default()
                );
            }
        }
        ["events", "resend", service, producer, seq] => {
            let token = operator(&api).await?;
            api.post(
                &format!("/v1/operations/{service}/parked-events/{producer}/{seq}/retry"),
                Some(&token),
                &json!({}),
            )
            .await?;
            println!("event {producer} #{seq} handled again by the {service} service");
        }
        _ => anyhow::bail!("unknown command; see `caravan help`:\n{}", api::USAGE),
    }
    Ok(())
}
