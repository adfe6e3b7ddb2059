//! Logins per second (argon2id-bound) against token verifications per second in
//! another service, on this machine.
//!
//! ```sh
//! cargo run --release -p caravan-auth --example auth_bench -- --seconds 10 --concurrency 16
//! ```

use caravan_shared::config::ServiceName;
use caravan_shared::identity::JwksVerifier;
use caravan_shared::testing::bench::{argument, load};
use caravan_shared::testing::{TestApp, free_port, wait_for_mail};
use serde_json::{Value, json};
use std::sync::Arc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = argument("--seconds", 10);
    let concurrency = argument("--concurrency", 16);
    let port = free_port();
    let auth_url = format!("http://127.0.0.1:{port}");
    let _auth = TestApp::spawn::<caravan_auth::migrations::Migrations, _, _>(
        ServiceName::Auth,
        caravan_auth::startup::build,
        &[
            ("BIND", &format!("127.0.0.1:{port}")),
            ("AUTH_URL", &auth_url),
            ("RUST_LOG", "warn"),
            ("DATABASE_MAX_CONNECTIONS", "20"),
        ],
    )
    .await?;
    let other = TestApp::spawn_producer(
        ServiceName::Catalog,
        &[("AUTH_URL", &auth_url), ("RUST_LOG", "warn")],
    )
    .await?;
    let client = reqwest::Client::new();

    let email = format!("bench-{}@example.cn", uuid::Uuid::now_v7().simple());
    let password = "benchmark-password-of-turpan";
    let registered = client
        .post(format!("{auth_url}/v1/auth/register"))
        .json(&json!({"email": email, "password": password, "display_name": "Bench"}))
        .send()
        .await?;
    anyhow::ensure!(registered.status() == 201, "registration failed");
    let token = wait_for_mail(&email, 1).await?[0]
        .token()
        .ok_or_else(|| anyhow::anyhow!("no token in the mail"))?;
    client
        .post(format!("{auth_url}/v1/auth/verify-email"))
        .json(&json!({"token": token}))
        .send()
        .await?
        .error_for_status()?;

    println!(
        "argon2id m=19 MiB t=2 p=1; {} cores",
        std::thread::available_parallelism()?.get()
    );
    let login_url = format!("{auth_url}/v1/auth/login");
    let (login_client, login_email) = (client.clone(), email.clone());
    load(
        "POST /v1/auth/login (auth service)",
        seconds,
        concurrency,
        move || {
            let (client, url, email) =
                (login_client.clone(), login_url.clone(), login_email.clone());
            async move {
                let response = client
                    .post(&url)
                    .json(&json!({"email": email, "password": password}))
                    .send()
                    .await?;
                anyhow::ensure!(
                    response.status() == 200,
                    "login answered {}",
                    response.status()
                );
                Ok(())
            }
        },
    )
    .await?;

    let service_token: Value = client
        .post(format!("{auth_url}/v1/auth/token"))
        .json(
            &json!({"grant_type": "client_credentials", "client_id": "service:order",
                      "client_secret": caravan_shared::testing::test_service_secret()}),
        )
        .send()
        .await?
        .json()
        .await?;
    let bearer = service_token["access_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();

    let verifier = Arc::new(JwksVerifier::new(&auth_url, "caravan-auth", "caravan")?);
    verifier.verify(&bearer).await?;
    let (in_process, in_process_token) = (verifier.clone(), bearer.clone());
    load(
        "token verification, in process (JWKS cached)",
        seconds.min(5),
        2,
        move || {
            let (verifier, token) = (in_process.clone(), in_process_token.clone());
            async move {
                for _ in 0..100 {
                    verifier.verify(&token).await?;
                }
                Ok(())
            }
        },
    )
    .await?;
    println!("  (each call above verifies 100 tokens)");

    let feed_url = other.url("/internal/v1/events?after=0&limit=1");
    load(
        "GET /internal/v1/events (another service)",
        seconds,
        concurrency,
        move || {
            let (client, url, bearer) = (client.clone(), feed_url.clone(), bearer.clone());
            async move {
                let response = client.get(&url).bearer_auth(&bearer).send().await?;
                anyhow::ensure!(
                    response.status() == 200,
                    "feed answered {}",
                    response.status()
                );
                Ok(())
            }
        },
    )
    .await?;
    Ok(())
}
