use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use caravan_shared::config::ServiceName;
pub use caravan_shared::testing::unique_email;
use caravan_shared::testing::{TestApp, mail_to, reserve_port, wait_for_mail};
use reqwest::Response;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "goji-harvest-in-zhongning";
pub const OPERATOR_PASSWORD: &str = "operators-watch-the-caravans";

/// The auth service, issuing the tokens it verifies, plus a producer of shop events
/// standing where the tenant service publishes them.
pub struct AuthApp {
    pub app: TestApp,
    pub shops: TestApp,
    pub operator_email: String,
}

/// The auth service and a tenant service playing its events' producer. Their ports
/// are bound before they start ([`reserve_port`]), so each knows the other's address.
pub async fn spawn_app() -> AuthApp {
    let auth_port = reserve_port();
    let shops_port = reserve_port();
    let auth_url = format!("http://127.0.0.1:{auth_port}");
    let shops_url = format!("http://127.0.0.1:{shops_port}");
    let prefix = format!("caravan-test-{}", uuid::Uuid::now_v7().simple());
    let operator_email = unique_email("operator");
    let app = TestApp::spawn::<caravan_auth::migrations::Migrations, _, _>(
        ServiceName::Auth,
        caravan_auth::startup::build,
        &[
            ("BIND", &format!("127.0.0.1:{auth_port}")),
            ("AUTH_URL", &auth_url),
            ("TENANT_URL", &shops_url),
            ("REDIS_PREFIX", &prefix),
            ("CARAVAN_OPERATOR_EMAIL", &operator_email),
            ("CARAVAN_OPERATOR_PASSWORD", OPERATOR_PASSWORD),
            ("PUBLIC_URL", "https://caravan.example"),
        ],
    )
    .await
    .expect("the auth service starts");
    let shops = TestApp::spawn_producer(
        ServiceName::Tenant,
        &[
            ("BIND", &format!("127.0.0.1:{shops_port}")),
            ("AUTH_URL", &auth_url),
            ("REDIS_PREFIX", &prefix),
        ],
    )
    .await
    .expect("the tenant producer starts");
    AuthApp {
        app,
        shops,
        operator_email,
    }
}

impl std::ops::Deref for AuthApp {
    type Target = TestApp;

    /// Requests go to the auth service.
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

impl AuthApp {
    pub async fn register(&self, email: &str, password: &str) -> Response {
        self.post(
            "/v1/auth/register",
            &json!({"email": email, "password": password, "display_name": "Ayşe Tursun"}),
        )
        .await
    }

    /// Registers and follows the emailed verification link.
    pub async fn verified_user(&self, email: &str) {
        assert_eq!(self.register(email, PASSWORD).await.status(), 201);
        let mail = wait_for_mail(email, 1).await.unwrap();
        let token = mail[0].token().unwrap();
        let verified = self
            .post("/v1/auth/verify-email", &json!({"token": token}))
            .await;
        assert_eq!(verified.status(), 204);
    }

    pub async fn login(&self, email: &str, password: &str, tenant: Option<&str>) -> Response {
        let mut body = json!({"email": email, "password": password});
        if let Some(tenant) = tenant {
            body["tenant"] = json!(tenant);
        }
        self.post("/v1/auth/login", &body).await
    }

    pub async fn tokens(&self, email: &str, password: &str, tenant: Option<&str>) -> Value {
        let response = self.login(email, password, tenant).await;
        assert_eq!(response.status(), 200, "{:?}", response.text().await);
        response.json().await.unwrap()
    }

    pub async fn operator_token(&self) -> String {
        self.tokens(&self.operator_email, OPERATOR_PASSWORD, None)
            .await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A shop activated by the tenant service; answers its id once the owner's
    /// invitation has arrived, with the invitation token.
    pub async fn activated_shop(&self, slug: &str, owner_email: &str) -> (uuid::Uuid, String) {
        let tenant = uuid::Uuid::now_v7();
        self.shops
            .publish(
                "tenant.activated",
                Some(tenant),
                json!({"slug": slug, "name": "Zhongning Goji Cooperative", "owner_email": owner_email}),
            )
            .await
            .unwrap();
        let mail = wait_for_mail(owner_email, 1).await.unwrap();
        (tenant, mail[0].token().unwrap())
    }

    /// A new shop whose owner accepted the invitation; answers (tenant, owner email,
    /// owner's tokens).
    pub async fn shop_with_owner(&self, slug: &str) -> (uuid::Uuid, String, Value) {
        let owner = unique_email("owner");
        let (tenant, token) = self.activated_shop(slug, &owner).await;
        let accepted = self
            .post(
                "/v1/auth/invitations/accept",
                &json!({"token": token, "password": PASSWORD, "display_name": "Ma Jun"}),
            )
            .await;
        assert_eq!(accepted.status(), 200, "{:?}", accepted.text().await);
        (tenant, owner, accepted.json().await.unwrap())
    }
}

impl AuthApp {
    /// Invites `email` to the shop of `owner_access` as `role`; answers the
    /// invitation's id and the token emailed for it.
    pub async fn invite(&self, owner_access: &str, email: &str, role: &str) -> (String, String) {
        let before = mail_to(email).await.unwrap().len();
        let invited = self
            .post_with(
                owner_access,
                "/v1/auth/invitations",
                &json!({"email": email, "role": role}),
            )
            .await;
        assert_eq!(invited.status(), 201, "{:?}", invited.text().await);
        let invitation: Value = invited.json().await.unwrap();
        let mail = wait_for_mail(email, before + 1).await.unwrap();
        (
            invitation["id"].as_str().unwrap().to_owned(),
            mail.last().unwrap().token().unwrap(),
        )
    }

    /// Invites `email` (a new account, or an existing one whose password is
    /// [`PASSWORD`]) to the shop of `owner_access` as `role`, and accepts; answers the
    /// tokens for that shop.
    pub async fn join(&self, owner_access: &str, email: &str, role: &str) -> Value {
        let (_, token) = self.invite(owner_access, email, role).await;
        let accepted = self
            .post(
                "/v1/auth/invitations/accept",
                &json!({"token": token, "password": PASSWORD, "display_name": "Aziz Rahman"}),
            )
            .await;
        assert_eq!(accepted.status(), 200, "{:?}", accepted.text().await);
        accepted.json().await.unwrap()
    }

    /// `POST /v1/auth/refresh` with this refresh token.
    pub async fn refresh(&self, refresh_token: &Value) -> Response {
        self.post("/v1/auth/refresh", &json!({"refresh_token": refresh_token}))
            .await
    }

    /// `POST /v1/auth/switch` with this refresh token, to the shop `slug`.
    pub async fn switch(&self, refresh_token: &Value, slug: &str) -> Response {
        self.post(
            "/v1/auth/switch",
            &json!({"refresh_token": refresh_token, "tenant": slug}),
        )
        .await
    }
}

/// Polls `GET /v1/auth/me` with `access` until it answers `status`, for at most a
/// second; answers the last response's body.
pub async fn me_within_a_second(auth: &AuthApp, access: &str, status: u16) -> Value {
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        let response = auth.get_with(access, "/v1/auth/me").await;
        if response.status().as_u16() == status {
            return response.json().await.unwrap_or_default();
        }
        assert!(
            Instant::now() < deadline,
            "/v1/auth/me still answers {} after a second",
            response.status()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The account id (`sub`) of an access token.
pub fn account_id(tokens: &Value) -> String {
    claims(tokens["access_token"].as_str().unwrap())["sub"]
        .as_str()
        .unwrap()
        .to_owned()
}

pub fn unique_slug(tag: &str) -> String {
    format!("{tag}-{}", &uuid::Uuid::now_v7().simple().to_string()[20..])
}

/// The claims of a JWT, read without verifying (the service under test verifies).
pub fn claims(token: &str) -> Value {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

pub use caravan_shared::testing::problem;
