use caravan_shared::config::ServiceName;
pub use caravan_shared::testing::unique_email;
use caravan_shared::testing::{TestApp, free_port, reserve_port, wait_for_mail};
use serde_json::{Value, json};

pub const PASSWORD: &str = "goji-harvest-in-zhongning";
const OPERATOR_PASSWORD: &str = "operators-watch-the-caravans";

/// The tenant service wired to a real auth service: tokens, invitations and the
/// shops' lifecycle flow through the event backbone between them.
pub struct Platform {
    pub tenant: TestApp,
    pub auth: TestApp,
    pub operator: String,
}

pub fn unique(tag: &str) -> String {
    format!("{tag}-{}", &uuid::Uuid::now_v7().simple().to_string()[18..])
}

pub async fn spawn_platform() -> Platform {
    spawn_platform_with(&[]).await
}

/// The platform with extra settings for the tenant service. The services' ports are
/// bound before they start ([`reserve_port`]), so each knows the other's address.
pub async fn spawn_platform_with(tenant_overrides: &[(&str, &str)]) -> Platform {
    let (auth_port, tenant_port) = (reserve_port(), reserve_port());
    let auth_url = format!("http://127.0.0.1:{auth_port}");
    let tenant_url = format!("http://127.0.0.1:{tenant_port}");
    let prefix = format!("caravan-test-{}", uuid::Uuid::now_v7().simple());
    let operator_email = unique_email("operator");
    let auth = TestApp::spawn::<caravan_auth::migrations::Migrations, _, _>(
        ServiceName::Auth,
        caravan_auth::startup::build,
        &[
            ("BIND", &format!("127.0.0.1:{auth_port}")),
            ("AUTH_URL", &auth_url),
            ("TENANT_URL", &tenant_url),
            ("REDIS_PREFIX", &prefix),
            ("CARAVAN_OPERATOR_EMAIL", &operator_email),
            ("CARAVAN_OPERATOR_PASSWORD", OPERATOR_PASSWORD),
        ],
    )
    .await
    .expect("the auth service starts");
    // Catalog and order are not running here: their addresses lead nowhere.
    let (catalog_url, order_url) = (
        format!("http://127.0.0.1:{}", free_port()),
        format!("http://127.0.0.1:{}", free_port()),
    );
    let bind = format!("127.0.0.1:{tenant_port}");
    let mut settings: Vec<(&str, &str)> = vec![
        ("BIND", &bind),
        ("AUTH_URL", &auth_url),
        ("TENANT_URL", &tenant_url),
        ("CATALOG_URL", &catalog_url),
        ("ORDER_URL", &order_url),
        ("REDIS_PREFIX", &prefix),
    ];
    settings.extend_from_slice(tenant_overrides);
    let tenant = TestApp::spawn::<caravan_tenant::migrations::Migrations, _, _>(
        ServiceName::Tenant,
        caravan_tenant::startup::build,
        &settings,
    )
    .await
    .expect("the tenant service starts");
    let login: Value = auth
        .client
        .post(auth.url("/v1/auth/login"))
        .json(&json!({"email": operator_email, "password": OPERATOR_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    Platform {
        operator: login["access_token"].as_str().unwrap().to_owned(),
        tenant,
        auth,
    }
}

pub fn application(slug: &str, email: &str) -> Value {
    json!({
        "shop_name": "Zhongning Goji Cooperative", "slug": slug, "region": "Ningxia",
        "contact_name": "Ma Jun", "email": email, "phone": "+86 955 555 0100",
        "description": "Dried goji berries from 120 member farms."
    })
}

impl std::ops::Deref for Platform {
    type Target = TestApp;

    /// Requests go to the tenant service.
    fn deref(&self) -> &TestApp {
        &self.tenant
    }
}

impl Platform {
    /// Applies, approves, and has the owner accept the emailed invitation; answers
    /// (shop id, slug, owner email, owner's access token).
    pub async fn live_shop(&self, tag: &str) -> (String, String, String, String) {
        let slug = unique(tag);
        let owner = unique_email("owner");
        let applied: Value = self
            .post("/v1/tenants/applications", &application(&slug, &owner))
            .await
            .json()
            .await
            .unwrap();
        let approved = self
            .post_with(
                Some(&self.operator),
                &format!(
                    "/v1/tenants/applications/{}/approve",
                    applied["id"].as_str().unwrap()
                ),
                &json!({"plan": "standard"}),
            )
            .await;
        assert_eq!(approved.status(), 201);
        let shop: Value = approved.json().await.unwrap();
        let token = invitation_token(&owner).await;
        let accepted: Value = self
            .auth
            .client
            .post(self.auth.url("/v1/auth/invitations/accept"))
            .json(&json!({"token": token, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        (
            shop["id"].as_str().unwrap().to_owned(),
            slug,
            owner,
            accepted["access_token"].as_str().unwrap().to_owned(),
        )
    }
}

pub use caravan_shared::testing::problem;

/// The token of the invitation emailed to `email`, waiting for it: an applicant gets
/// the application's confirmation first, and the invitation is the mail with a link.
pub async fn invitation_token(email: &str) -> String {
    let mut count = 1;
    loop {
        let mail = wait_for_mail(email, count).await.unwrap();
        if let Some(token) = mail.iter().find_map(|mail| mail.token()) {
            return token;
        }
        count = mail.len() + 1;
    }
}
