//! The operator's commands: each logs in as the operator and calls the API.

use crate::api::Api;
use crate::demo;
use serde_json::json;

/// Who runs the commands.
pub struct Operator {
    /// The operator's email.
    pub email: String,
    /// Their password.
    pub password: String,
}

impl Operator {
    async fn login(&self, api: &Api) -> anyhow::Result<String> {
        api.login(&self.email, &self.password, None).await
    }
}

/// `caravan openapi write|check`: writes the contract into `openapi/`, or checks that
/// it is current. It reads only the code: no platform, no operator.
pub fn openapi(action: &str) -> anyhow::Result<()> {
    let folder = std::path::Path::new("openapi");
    match action {
        "write" => {
            crate::openapi::write(folder)?;
            println!("openapi/: documents written");
        }
        "check" => {
            let stale = crate::openapi::stale(folder)?;
            anyhow::ensure!(
                stale.is_empty(),
                "openapi/ differs from the code for {}: run `caravan openapi write` and commit",
                stale.join(", ")
            );
            println!("openapi/ is current");
        }
        other => anyhow::bail!("unknown openapi command {other:?}: write or check"),
    }
    Ok(())
}

/// Runs one operator command against the platform behind `api`.
pub async fn run(
    api: &Api,
    operator: &Operator,
    maildev: &str,
    new_operator_password: Option<&str>,
    words: &[&str],
) -> anyhow::Result<()> {
    match words {
        ["seed-demo"] => {
            let token = operator.login(api).await?;
            if demo::is_empty(api, &token).await? {
                demo::seed(api, maildev, &token, &operator.password).await?;
                println!("demo data created");
            } else {
                println!("the platform already has shops; nothing created");
            }
        }
        ["tenants", "list"] => {
            let token = operator.login(api).await?;
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
            let token = operator.login(api).await?;
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
            let token = operator.login(api).await?;
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
            let token = operator.login(api).await?;
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
            let token = operator.login(api).await?;
            let password = new_operator_password.ok_or_else(|| {
                anyhow::anyhow!("set CARAVAN_NEW_OPERATOR_PASSWORD to the new operator's password")
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
            let token = operator.login(api).await?;
            let keys = api
                .post("/v1/auth/keys/rotate", Some(&token), &json!({}))
                .await?;
            println!("signing key rotated: {}", keys);
        }
        ["events", "parked", service] => {
            let token = operator.login(api).await?;
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
            let token = operator.login(api).await?;
            api.post(
                &format!("/v1/operations/{service}/parked-events/{producer}/{seq}/retry"),
                Some(&token),
                &json!({}),
            )
            .await?;
            println!("event {producer} #{seq} handled again by the {service} service");
        }
        _ => anyhow::bail!(
            "unknown command; see `caravan help`:\n{}",
            crate::api::USAGE
        ),
    }
    Ok(())
}
