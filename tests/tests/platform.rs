//! The whole platform, started as `caravan up` starts it, driven only through the
//! gateway as its three kinds of users would.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use caravan_cli::platform::{Options, Platform, Relaxed};
use caravan_cli::secrets::InstallSecrets;
use caravan_shared::testing::wait_for_mail;
use reqwest::{Client, Response};
use serde_json::{Value, json};
use sha2::Digest;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

const PASSWORD: &str = "Tianshan-apricots-2026";

struct Running {
    platform: Platform,
    operator_email: String,
    http: Client,
    databases: Vec<String>,
    redis_prefix: String,
}

impl Drop for Running {
    fn drop(&mut self) {
        caravan_shared::testing::drop_databases(std::mem::take(&mut self.databases));
    }
}

async fn start() -> Running {
    caravan_shared::telemetry::init(caravan_shared::config::LogFormat::Pretty);
    let id = Uuid::now_v7().simple().to_string();
    let operator_email = format!("operator-{id}@example.cn");
    let options = Options {
        // The gateway, the four services and the web faces, each port held until
        // its server serves on it.
        gateway_port: caravan_shared::testing::reserve_ports(6),
        database_prefix: format!("e2e_{}", &id[20..]),
        redis_prefix: format!("caravan-e2e-{id}"),
        operator_email: operator_email.clone(),
        operator_password: PASSWORD.to_owned(),
        secrets: InstallSecrets::generate(),
        // Test payments drive orders to paid; the webhook test's receiver runs on
        // this machine.
        relaxed: Relaxed {
            test_payments: true,
            internal_webhooks: true,
        },
        extra: vec![
            ("DATABASE_MAX_CONNECTIONS".into(), "5".into()),
            // The test command checks the budget of the whole run.
            ("DATABASE_CAPACITY_CHECK".into(), "false".into()),
        ],
        check_connections: false,
    };
    let databases: Vec<String> = ["auth", "tenant", "catalog", "order"]
        .iter()
        .map(|service| format!("{}_{service}", options.database_prefix))
        .collect();
    let platform = match Platform::start(&options).await {
        Ok(platform) => platform,
        Err(error) => {
            caravan_shared::testing::drop_databases(databases);
            panic!("the platform did not start: {error:#}");
        }
    };
    Running {
        platform,
        operator_email,
        http: Client::new(),
        redis_prefix: options.redis_prefix.clone(),
        databases,
    }
}

impl Running {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.platform.url)
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        let mut request = self.http.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await.unwrap()
    }

    async fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Value {
        let response = self
            .send(reqwest::Method::POST, path, token, &[], Some(body))
            .await;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {value}");
        value
    }

    async fn get(&self, path: &str, token: Option<&str>) -> Value {
        let response = self
            .send(reqwest::Method::GET, path, token, &[], None)
            .await;
        let status = response.status();
        let value: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "GET {path}: {status} {value}");
        value
    }

    /// The new owner of `shop` sets a password through the emailed invitation and
    /// signs in.
    async fn accept_invitation(&self, owner_email: &str, shop: &str) -> String {
        // An applicant's confirmation comes first; the invitation is the mail with a link.
        let mut count = 1;
        let token = loop {
            let mail = wait_for_mail(owner_email, count).await.unwrap();
            if let Some(token) = mail.iter().find_map(|mail| mail.token()) {
                break token;
            }
            count = mail.len() + 1;
        };
        self.post(
            "/v1/auth/invitations/accept",
            None,
            &json!({"token": token, "password": PASSWORD}),
        )
        .await;
        self.login(owner_email, Some(shop)).await
    }

    async fn login(&self, email: &str, shop: Option<&str>) -> String {
        let mut body = json!({"email": email, "password": PASSWORD});
        if let Some(shop) = shop {
            body["tenant"] = json!(shop);
        }
        self.post("/v1/auth/login", None, &body).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// A webhook receiver: every POST's headers and body.
async fn webhook_receiver() -> (String, Arc<Mutex<Vec<(String, String, String)>>>) {
    let received: Arc<Mutex<Vec<(String, String, String)>>> = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let store = received.clone();
    let server = HttpServer::new(move || {
        let store = store.clone();
        App::new().default_service(web::to(move |request: HttpRequest, body: web::Bytes| {
            let store = store.clone();
            async move {
                let header = |name: &str| {
                    request
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                store.lock().unwrap().push((
                    header("Caravan-Signature"),
                    header("Caravan-Timestamp"),
                    String::from_utf8_lossy(&body).into_owned(),
                ));
                HttpResponse::Ok().finish()
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    (format!("http://127.0.0.1:{port}/hooks"), received)
}

#[tokio::test]
async fn operators_cooperatives_buyers_and_apps_use_one_platform_through_the_gateway() {
    let caravan = start().await;
    let operator = caravan.login(&caravan.operator_email.clone(), None).await;

    // Internal routes and unknown paths are not public.
    assert_eq!(
        caravan
            .send(reqwest::Method::GET, "/internal/v1/events", None, &[], None)
            .await
            .status(),
        404
    );
    assert_eq!(
        caravan
            .send(reqwest::Method::GET, "/metrics", None, &[], None)
            .await
            .status(),
        404
    );

    // A cooperative applies; the operator approves it; the owner accepts the emailed invitation.
    let suffix = &Uuid::now_v7().simple().to_string()[20..];
    let slug = format!("goji-{suffix}");
    let owner_email = format!("owner-{suffix}@zhongning-goji.example.cn");
    let application = caravan
        .post("/v1/tenants/applications", None, &json!({
            "shop_name": "宁夏中宁枸杞合作社", "slug": slug, "region": "Ningxia", "contact_name": "马军",
            "email": owner_email, "phone": "+86 955 555 0100", "description": "头茬枸杞，120 户社员。"
        }))
        .await;
    let tenant = caravan
        .post(
            &format!(
                "/v1/tenants/applications/{}/approve",
                application["id"].as_str().unwrap()
            ),
            Some(&operator),
            &json!({"plan": "standard"}),
        )
        .await;
    assert_eq!(tenant["status"], "active");
    let tenant_id = tenant["id"].as_str().unwrap().to_owned();
    let owner = caravan.accept_invitation(&owner_email, &slug).await;
    caravan
        .send(reqwest::Method::PATCH, &format!("/v1/tenants/{tenant_id}"), Some(&owner), &[], Some(&json!({
            "currencies": ["CNY", "USD"], "locales": ["zh-CN", "en", "ug"], "contact_email": format!("shop-{suffix}@example.cn")
        })))
        .await;

    // Catalog: a category, a product, another by CSV import, a stock delivery, shipping.
    let category = caravan
        .post(
            "/v1/categories",
            Some(&owner),
            &json!({"handle": "goji", "name": {"zh-CN": "枸杞", "en": "Goji"}}),
        )
        .await;
    let product = caravan
        .post("/v1/products", Some(&owner), &json!({
            "handle": "red-goji", "status": "active", "category_ids": [category["id"]],
            "title": {"zh-CN": "中宁头茬红枸杞", "en": "First-harvest red goji", "ug": "قىزىل لەڭزە"},
            "variants": [{"sku": format!("GOJI-{suffix}"), "unit": "box", "weight_grams": 560,
                "prices": [{"amount": 6800, "currency": "CNY"}, {"amount": 950, "currency": "USD"}], "stock": 5}]
        }))
        .await;
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    let csv = format!(
        "handle,status,title.zh-CN,title.en,sku,unit,weight_grams,prices,stock\nblack-goji,active,野生黑枸杞,Wild black goji,BLACK-{suffix},box,300,9800 CNY,40\n"
    );
    let imported = caravan
        .http
        .post(caravan.url("/v1/products/import"))
        .bearer_auth(&owner)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert!(
        imported.status().is_success(),
        "{:?}",
        imported.text().await
    );
    caravan
        .post(
            "/v1/inventory/adjustments",
            Some(&owner),
            &json!({"variant_id": variant, "delta": 95, "reason": "received"}),
        )
        .await;
    caravan
        .post(
            "/v1/shipping-zones",
            Some(&owner),
            &json!({
                "name": "中国大陆", "countries": ["CN"],
                "rates": [{"name": "顺丰", "price": {"amount": 1200, "currency": "CNY"}}]
            }),
        )
        .await;

    // A third-party app with client credentials, and a webhook for paid orders.
    let client = caravan
        .post(
            "/v1/auth/clients",
            Some(&owner),
            &json!({"name": "Kashgar ERP", "scopes": ["orders:read"]}),
        )
        .await;
    let app_token = caravan
        .post("/v1/auth/token", None, &json!({"grant_type": "client_credentials", "client_id": client["client_id"], "client_secret": client["client_secret"]}))
        .await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let (hook_url, received) = webhook_receiver().await;
    let hook = caravan
        .post(
            "/v1/webhooks",
            Some(&owner),
            &json!({"url": hook_url, "events": ["order.paid"]}),
        )
        .await;
    let hook_secret = hook["secret"].as_str().unwrap().to_owned();

    // A buyer browses in Chinese, searches, fills a cart, checks out and pays.
    let listing = caravan
        .get(&format!("/v1/shops/{slug}/products?locale=zh-CN"), None)
        .await;
    let titles: Vec<&str> = listing["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["title"].as_str().unwrap())
        .collect();
    assert!(
        titles.contains(&"中宁头茬红枸杞") && titles.contains(&"野生黑枸杞"),
        "{titles:?}"
    );
    let found = caravan
        .get(
            &format!("/v1/shops/{slug}/products?q=%E7%BA%A2%E6%9E%B8%E6%9D%9E"),
            None,
        )
        .await;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    let cart = caravan
        .post(&format!("/v1/shops/{slug}/carts"), None, &json!({}))
        .await;
    let (cart_id, cart_token) = (
        cart["id"].as_str().unwrap().to_owned(),
        cart["token"].as_str().unwrap().to_owned(),
    );
    let added = caravan
        .send(
            reqwest::Method::POST,
            &format!("/v1/shops/{slug}/carts/{cart_id}/lines"),
            None,
            &[("X-Cart-Token", &cart_token)],
            Some(&json!({"variant_id": variant, "quantity": 2})),
        )
        .await;
    assert_eq!(added.status(), 200);
    let view: Value = caravan
        .send(
            reqwest::Method::GET,
            &format!("/v1/shops/{slug}/carts/{cart_id}?country=CN"),
            None,
            &[("X-Cart-Token", &cart_token)],
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let rate = view["shipping_options"][0]["rate_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let buyer_email = format!("buyer-{suffix}@example.cn");
    let checkout = caravan
        .send(reqwest::Method::POST, &format!("/v1/shops/{slug}/checkout"), None, &[("X-Cart-Token", &cart_token), ("Idempotency-Key", &format!("e2e-{suffix}"))], Some(&json!({
            "cart_id": cart_id, "email": buyer_email, "phone": "+86 138 0013 8000",
            "shipping_address": {"country": "CN", "province": "上海市", "city": "上海市", "street": "世纪大道 100 号", "postal_code": "200120", "recipient": "王芳"},
            "shipping_rate_id": rate
        })))
        .await;
    assert_eq!(checkout.status(), 201);
    let order: Value = checkout.json().await.unwrap();
    let order_id = order["id"].as_str().unwrap().to_owned();
    assert_eq!(
        order["total"],
        json!({"amount": 2 * 6800 + 1200, "currency": "CNY"})
    );
    let paid = caravan
        .send(
            reqwest::Method::POST,
            &format!("/v1/shops/{slug}/orders/{order_id}/payments"),
            None,
            &[("X-Order-Token", order["access_token"].as_str().unwrap())],
            Some(&json!({"provider": "test", "card_number": "4242424242424242"})),
        )
        .await;
    assert_eq!(paid.status(), 200);
    let confirmation = wait_for_mail(&buyer_email, 1).await.unwrap();
    assert!(
        confirmation[0].text.contains("148.00 CNY"),
        "{}",
        confirmation[0].text
    );

    // Staff ship it; the buyer is told the tracking number.
    let shipped = caravan
        .post(
            &format!("/v1/orders/{order_id}/fulfillments"),
            Some(&owner),
            &json!({"carrier": "顺丰速运", "tracking_number": "SF1234567890"}),
        )
        .await;
    assert_eq!(shipped["status"], "fulfilled");
    let mail = wait_for_mail(&buyer_email, 2).await.unwrap();
    assert!(mail.iter().any(|m| m.text.contains("SF1234567890")));

    // The app reads the order, and the signed order.paid webhook arrived.
    let seen = caravan
        .get(&format!("/v1/orders/{order_id}"), Some(&app_token))
        .await;
    assert_eq!(seen["status"], "fulfilled");
    let deadline = Instant::now() + Duration::from_secs(15);
    let delivery = loop {
        let found = received
            .lock()
            .unwrap()
            .iter()
            .find(|(_, _, body)| body.contains(&order_id) && body.contains("order.paid"))
            .cloned();
        if let Some(found) = found {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "the order.paid webhook never arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let (signature, timestamp, body) = delivery;
    let expected = caravan_tenant::webhooks::signature(
        &hook_secret,
        timestamp.parse().unwrap(),
        body.as_bytes(),
    );
    assert_eq!(signature, expected);

    // The operator suspends the shop: its storefront and APIs stop within a second.
    caravan
        .post(
            &format!("/v1/tenants/{tenant_id}/suspend"),
            Some(&operator),
            &json!({"reason": "review"}),
        )
        .await;
    let started = Instant::now();
    loop {
        let storefront = caravan
            .send(
                reqwest::Method::GET,
                &format!("/v1/shops/{slug}/products"),
                None,
                &[],
                None,
            )
            .await
            .status()
            .as_u16();
        let carts = caravan
            .send(
                reqwest::Method::POST,
                &format!("/v1/shops/{slug}/carts"),
                None,
                &[],
                Some(&json!({})),
            )
            .await
            .status()
            .as_u16();
        let staff = caravan
            .send(reqwest::Method::GET, "/v1/orders", Some(&owner), &[], None)
            .await
            .status()
            .as_u16();
        let catalog = caravan
            .send(
                reqwest::Method::GET,
                "/v1/products",
                Some(&owner),
                &[],
                None,
            )
            .await
            .status()
            .as_u16();
        if (storefront, carts, staff, catalog) == (404, 404, 403, 403) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "still answering: {storefront} {carts} {staff} {catalog}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn the_operator_cli_runs_its_commands_against_the_platform() {
    use caravan_cli::api::Api;
    use caravan_cli::commands::{Operator, run};
    let caravan = start().await;
    let api = Api::new(&caravan.platform.url).unwrap();
    let operator = Operator {
        email: caravan.operator_email.clone(),
        password: PASSWORD.to_owned(),
    };
    let maildev = caravan_shared::testing::maildev_url();
    let suffix = &Uuid::now_v7().simple().to_string()[20..];
    let cli = |words: Vec<String>| {
        let (api, operator, maildev) = (&api, &operator, &maildev);
        async move {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            run(api, operator, maildev, Some("Kunlun-snowline-2026"), &words).await
        }
    };
    let words = |text: &str| text.split(' ').map(str::to_owned).collect::<Vec<_>>();

    cli(words(&format!(
        "tenants create Hotan-Walnuts walnuts-{suffix} owner-{suffix}@example.cn standard"
    )))
    .await
    .unwrap();
    cli(words("tenants list")).await.unwrap();
    let token = caravan.login(&caravan.operator_email.clone(), None).await;
    let tenants = caravan.get("/v1/tenants?limit=100", Some(&token)).await;
    assert!(
        tenants["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["slug"] == format!("walnuts-{suffix}") && t["status"] == "active")
    );

    let application = caravan
        .post("/v1/tenants/applications", None, &json!({
            "shop_name": "Kashgar Apricots", "slug": format!("apricots-{suffix}"), "region": "Xinjiang",
            "contact_name": "Aziz", "email": format!("aziz-{suffix}@example.cn"), "phone": "+86 998 555 0100", "description": "Dried apricots."
        }))
        .await;
    cli(words("applications list")).await.unwrap();
    cli(vec![
        "applications".into(),
        "approve".into(),
        application["id"].as_str().unwrap().to_owned(),
    ])
    .await
    .unwrap();
    let shop = caravan
        .get(&format!("/v1/shops/apricots-{suffix}"), None)
        .await;
    assert_eq!(shop["slug"], format!("apricots-{suffix}"));

    let second = format!("ops-{suffix}@example.cn");
    cli(words(&format!("operators create {second}")))
        .await
        .unwrap();
    let login = caravan
        .send(
            reqwest::Method::POST,
            "/v1/auth/login",
            None,
            &[],
            Some(&json!({"email": second, "password": "Kunlun-snowline-2026"})),
        )
        .await;
    assert_eq!(login.status(), 200);

    cli(words("keys rotate")).await.unwrap();
    let jwks = caravan.get("/.well-known/jwks.json", None).await;
    assert!(jwks["keys"].as_array().unwrap().len() >= 2, "{jwks}");

    cli(words("events parked order")).await.unwrap();
    assert!(
        cli(words("events resend order tenant 999999"))
            .await
            .is_err()
    );
    assert!(cli(words("tenants frobnicate")).await.is_err());
    // Only operators may see parked events.
    let owner_view = caravan
        .send(
            reqwest::Method::GET,
            "/v1/operations/order/parked-events",
            None,
            &[],
            None,
        )
        .await;
    assert_eq!(owner_view.status(), 401);
}

/// The contract third parties build on is committed in `openapi/`; any change to it
/// shows in review as a diff of those files, and this test fails until they are
/// regenerated.
#[test]
fn the_committed_openapi_documents_are_what_the_code_serves() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi");
    let stale = caravan_cli::openapi::stale(&dir).unwrap();
    assert!(
        stale.is_empty(),
        "openapi/ differs from the code for {stale:?}: run `cargo run -p caravan-cli --bin caravan -- openapi write` and commit the result"
    );
    let merged: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("caravan.json")).unwrap()).unwrap();
    let paths = merged["paths"].as_object().unwrap();
    assert!(paths.keys().all(|path| !path.starts_with("/internal")));
    assert!(paths.contains_key("/v1/shops/{shop}/checkout"));
}

/// A shop with one product and a shipping zone for China, opened by the operator,
/// for the storefront's tests: its slug, the variant and the owner's token.
async fn shop_with_a_product(caravan: &Running) -> (String, String, String) {
    let (slug, variant, owner, _) = shop_with_its_owner(caravan).await;
    (slug, variant, owner)
}

/// [`shop_with_a_product`], with the owner's email too.
async fn shop_with_its_owner(caravan: &Running) -> (String, String, String, String) {
    let operator = caravan.login(&caravan.operator_email.clone(), None).await;
    let suffix = &Uuid::now_v7().simple().to_string()[20..];
    let slug = format!("raisins-{suffix}");
    let owner_email = format!("owner-{suffix}@turpan.example.cn");
    caravan
        .post(
            "/v1/tenants",
            Some(&operator),
            &json!({"name": "吐鲁番葡萄干合作社", "slug": slug, "owner_email": owner_email, "plan": "standard"}),
        )
        .await;
    let owner = caravan.accept_invitation(&owner_email, &slug).await;
    let product = caravan
        .post("/v1/products", Some(&owner), &json!({
            "handle": "green-raisins", "status": "active",
            "title": {"zh-CN": "吐鲁番绿葡萄干", "en": "Turpan green raisins", "ug": "تۇرپان يېشىل ئۈزۈم قۇرۇقى"},
            "variants": [{"sku": format!("RAISIN-{suffix}"), "unit": "piece", "weight_grams": 520,
                "prices": [{"amount": 3900, "currency": "CNY"}], "stock": 50}]
        }))
        .await;
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    caravan
        .post(
            "/v1/shipping-zones",
            Some(&owner),
            &json!({
                "name": "中国大陆", "countries": ["CN"],
                "rates": [{"name": "顺丰", "price": {"amount": 1200, "currency": "CNY"}}]
            }),
        )
        .await;
    (slug, variant, owner, owner_email)
}

/// A guest's order of `quantity` units of `variant` in `slug`, placed through the
/// API: its id.
async fn place_order(caravan: &Running, slug: &str, variant: &str, quantity: i64) -> String {
    let order = place_order_with(caravan, slug, variant, quantity, json!({})).await;
    order["id"].as_str().unwrap().to_owned()
}

/// [`place_order`] with more checkout fields (`extra`: a group to open or join, a
/// harvest to pre-order): the order, with its access token.
async fn place_order_with(
    caravan: &Running,
    slug: &str,
    variant: &str,
    quantity: i64,
    extra: Value,
) -> Value {
    let cart = caravan
        .post(&format!("/v1/shops/{slug}/carts"), None, &json!({}))
        .await;
    let (cart_id, token) = (
        cart["id"].as_str().unwrap().to_owned(),
        cart["token"].as_str().unwrap().to_owned(),
    );
    let headers = [("X-Cart-Token", token.as_str())];
    let added = caravan
        .send(
            reqwest::Method::POST,
            &format!("/v1/shops/{slug}/carts/{cart_id}/lines"),
            None,
            &headers,
            Some(&json!({"variant_id": variant, "quantity": quantity})),
        )
        .await;
    assert_eq!(added.status(), 200);
    let view: Value = caravan
        .send(
            reqwest::Method::GET,
            &format!("/v1/shops/{slug}/carts/{cart_id}?country=CN"),
            None,
            &headers,
            None,
        )
        .await
        .json()
        .await
        .unwrap();
    let key = format!("order-{}", Uuid::now_v7().simple());
    let mut body = json!({
        "cart_id": cart_id, "email": "buyer@example.cn", "phone": "+86 138 0013 8000",
        "shipping_address": {"country": "CN", "province": "上海市", "city": "上海市", "street": "世纪大道 100 号", "postal_code": "200120", "recipient": "王芳"},
        "shipping_rate_id": view["shipping_options"][0]["rate_id"]
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    let placed = caravan
        .send(
            reqwest::Method::POST,
            &format!("/v1/shops/{slug}/checkout"),
            None,
            &[("X-Cart-Token", &token), ("Idempotency-Key", &key)],
            Some(&body),
        )
        .await;
    assert_eq!(placed.status(), 201);
    placed.json().await.unwrap()
}

/// Pays `order` (with its access token) by test card through the gateway; the
/// order as paid.
async fn pay_by_card(caravan: &Running, slug: &str, order: &Value) -> Value {
    let paid = caravan
        .send(
            reqwest::Method::POST,
            &format!(
                "/v1/shops/{slug}/orders/{}/payments",
                order["id"].as_str().unwrap()
            ),
            None,
            &[("X-Order-Token", order["access_token"].as_str().unwrap())],
            Some(&json!({"provider": "test", "card_number": "4242424242424242"})),
        )
        .await;
    assert_eq!(paid.status(), 200);
    paid.json().await.unwrap()
}

/// Waits for a delivery of `event` naming `id` at the receiver; its signature,
/// timestamp and body.
async fn delivered(
    received: &Mutex<Vec<(String, String, String)>>,
    event: &str,
    id: &str,
) -> (String, String, String) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let found = received
            .lock()
            .unwrap()
            .iter()
            .find(|(_, _, body)| body.contains(id) && body.contains(&format!("\"{event}\"")))
            .cloned();
        if let Some(found) = found {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no {event} webhook for {id} arrived"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn group_deals_and_harvest_pre_orders_reach_the_shops_webhooks() {
    let caravan = start().await;
    let (slug, variant, owner, _) = shop_with_its_owner(&caravan).await;
    let (hook_url, received) = webhook_receiver().await;
    let hook = caravan
        .post(
            "/v1/webhooks",
            Some(&owner),
            &json!({"url": hook_url, "events": ["group.formed", "order.paid", "order.preordered", "preorder.harvested"]}),
        )
        .await;
    let secret = hook["secret"].as_str().unwrap().to_owned();

    // Two buyers form a group of two through the gateway.
    let deal = caravan
        .post(
            "/v1/group-deals",
            Some(&owner),
            &json!({
                "variant_id": variant, "prices": [{"amount": 2900, "currency": "CNY"}],
                "group_size": 2, "open_hours": 24, "max_units": 10,
                "ends_at": (chrono::Utc::now() + chrono::Duration::days(3)).to_rfc3339(),
            }),
        )
        .await;
    let first = place_order_with(
        &caravan,
        &slug,
        &variant,
        1,
        json!({"group": {"deal_id": deal["id"]}}),
    )
    .await;
    assert_eq!(
        pay_by_card(&caravan, &slug, &first).await["status"],
        "awaiting_group"
    );
    let group = first["group"]["id"].as_str().unwrap().to_owned();
    let page = caravan
        .get(&format!("/v1/shops/{slug}/groups/{group}"), None)
        .await;
    assert_eq!(page["places_left"], 1);
    let second = place_order_with(
        &caravan,
        &slug,
        &variant,
        1,
        json!({"group": {"group_id": group}}),
    )
    .await;
    let started = Instant::now();
    let last = pay_by_card(&caravan, &slug, &second).await;
    let formed_in = started.elapsed();
    assert_eq!(last["status"], "paid");
    let staff = caravan
        .get(
            &format!("/v1/orders/{}", first["id"].as_str().unwrap()),
            Some(&owner),
        )
        .await;
    assert_eq!(staff["status"], "paid");
    println!(
        "through the gateway: the 2nd join's payment answered with every order of the group paid in {} ms",
        formed_in.as_millis()
    );
    let (signature, timestamp, body) = delivered(&received, "group.formed", &group).await;
    assert_eq!(
        signature,
        caravan_tenant::webhooks::signature(&secret, timestamp.parse().unwrap(), body.as_bytes())
    );
    let formed: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(formed["data"]["joined"], 2);
    for order in [&first, &second] {
        delivered(&received, "order.paid", order["id"].as_str().unwrap()).await;
    }

    // A harvest pre-ordered with a deposit, then announced.
    let campaign = caravan
        .post(
            "/v1/preorder-campaigns",
            Some(&owner),
            &json!({
                "variant_id": variant, "allocation": 100,
                "ships_from": (chrono::Utc::now() + chrono::Duration::days(120)).date_naive(),
                "deposits": [{"amount": 1000, "currency": "CNY"}],
            }),
        )
        .await;
    let campaign_id = campaign["id"].as_str().unwrap().to_owned();
    let preorder = place_order_with(
        &caravan,
        &slug,
        &variant,
        1,
        json!({"preorder": {"campaign_id": campaign_id}}),
    )
    .await;
    assert_eq!(
        pay_by_card(&caravan, &slug, &preorder).await["status"],
        "preordered"
    );
    delivered(
        &received,
        "order.preordered",
        preorder["id"].as_str().unwrap(),
    )
    .await;
    caravan
        .post(
            &format!("/v1/preorder-campaigns/{campaign_id}/harvest"),
            Some(&owner),
            &json!({}),
        )
        .await;
    let (_, _, body) = delivered(&received, "preorder.harvested", &campaign_id).await;
    let harvested: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(harvested["data"]["balance_due"], 1);
}

/// The body of the web session a cookie names, as the web tier keeps it in Redis.
struct StoredSession {
    redis: redis::aio::MultiplexedConnection,
    key: String,
}

impl StoredSession {
    async fn of(caravan: &Running, cookie: &str) -> Self {
        let client = redis::Client::open(caravan_shared::testing::redis_url()).unwrap();
        let redis = client.get_multiplexed_async_connection().await.unwrap();
        let id = cookie.trim_start_matches("caravan_session=");
        let digest: String = sha2::Sha256::digest(id.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let key = format!("{}:web:session:{digest}", caravan.redis_prefix);
        Self { redis, key }
    }

    async fn read(&mut self) -> Value {
        let stored: String = redis::AsyncCommands::get(&mut self.redis, &self.key)
            .await
            .unwrap();
        serde_json::from_str(&stored).unwrap()
    }

    async fn write(&mut self, body: &Value) {
        let _: () = redis::AsyncCommands::set(&mut self.redis, &self.key, body.to_string())
            .await
            .unwrap();
    }
}

/// A form as a browser posts it.
fn form(request: reqwest::RequestBuilder, fields: &[(&str, &str)]) -> reqwest::RequestBuilder {
    request
        .header("content-type", "application/x-www-form-urlencoded")
        .body(serde_urlencoded::to_string(fields).unwrap())
}

fn set_cookie(response: &Response) -> Option<String> {
    response
        .headers()
        .get("set-cookie")
        .map(|value| value.to_str().unwrap().to_owned())
}

/// The `name=value` of the session cookie an answer sets.
fn session_cookie(response: &Response) -> String {
    set_cookie(response)
        .expect("a session cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned()
}

/// The value of the first `<input name=csrf>` on a page.
fn csrf_of(html: &str) -> String {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse("input[name=csrf]").unwrap();
    document
        .select(&selector)
        .next()
        .and_then(|input| input.value().attr("value"))
        .expect("a form with the session's CSRF secret")
        .to_owned()
}

#[tokio::test]
async fn the_storefront_sets_no_cookie_on_catalogue_pages_and_refuses_forged_forms() {
    let caravan = start().await;
    let (slug, variant, owner) = shop_with_a_product(&caravan).await;
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |path: &str| caravan.url(path);

    // Catalogue pages: HTML in the URL's language, strict headers, and no cookie.
    for (path, lang, dir) in [
        (format!("/s/{slug}/zh-CN/"), "zh-CN", "ltr"),
        (format!("/s/{slug}/zh-CN/products?q=葡萄"), "zh-CN", "ltr"),
        (format!("/s/{slug}/ug/p/green-raisins"), "ug", "rtl"),
    ] {
        let page = browser.get(url(&path)).send().await.unwrap();
        assert_eq!(page.status(), 200, "{path}");
        assert!(set_cookie(&page).is_none(), "{path} set a cookie");
        let headers = page.headers().clone();
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{csp}"
        );
        assert_eq!(headers["referrer-policy"], "same-origin");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert!(
            headers["cache-control"]
                .to_str()
                .unwrap()
                .starts_with("public")
        );
        let html = page.text().await.unwrap();
        let document = scraper::Html::parse_document(&html);
        let root = document.root_element();
        assert_eq!(root.value().attr("lang"), Some(lang), "{path}");
        assert_eq!(root.value().attr("dir"), Some(dir), "{path}");
    }
    let product = browser
        .get(url(&format!("/s/{slug}/zh-CN/p/green-raisins")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(product.contains("吐鲁番绿葡萄干") && product.contains("¥39.00"));
    assert!(product.contains("\"@type\":\"Product\""), "JSON-LD Product");
    assert!(product.contains("hreflang=\"ug\""));

    // An add-to-cart from another site, or from nowhere said, is refused and starts
    // nothing.
    let fields = [("variant_id", variant.as_str()), ("quantity", "2")];
    let add = url(&format!("/s/{slug}/zh-CN/cart/add"));
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![
            ("sec-fetch-site", "cross-site"),
            ("origin", "https://evil.example"),
        ],
        vec![],
    ] {
        let mut request = form(browser.post(&add), &fields);
        for (name, value) in &headers {
            request = request.header(*name, *value);
        }
        let refused = request.send().await.unwrap();
        assert_eq!(refused.status(), 403, "{headers:?}");
        assert!(set_cookie(&refused).is_none());
    }

    // A form that cannot be read is a 400 page in the buyer's language, and no session.
    let unreadable = form(
        browser.post(&add).header("sec-fetch-site", "same-origin"),
        &[("variant_id", "not-a-variant"), ("quantity", "x")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(unreadable.status(), 400);
    assert!(set_cookie(&unreadable).is_none());
    assert!(unreadable.text().await.unwrap().contains("无法识别"));

    // From a page of this site it starts the session: one opaque cookie.
    let added = form(
        browser.post(&add).header("sec-fetch-site", "same-origin"),
        &fields,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(added.status(), 303);
    assert_eq!(added.headers()["location"], format!("/s/{slug}/zh-CN/cart"));
    let cookie = set_cookie(&added).expect("the session's cookie");
    assert!(cookie.starts_with("caravan_session="), "{cookie}");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    // A local run serves plain HTTP: the cookie could not be sent back if Secure.
    assert!(!cookie.contains("Secure"), "{cookie}");
    let session = cookie.split(';').next().unwrap().to_owned();

    let cart = browser
        .get(url(&format!("/s/{slug}/zh-CN/cart")))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(cart.status(), 200);
    assert!(
        cart.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("no-store")
    );
    let html = cart.text().await.unwrap();
    assert!(
        html.contains("吐鲁番绿葡萄干") && html.contains("¥78.00"),
        "the cart holds two"
    );
    let csrf = csrf_of(&html);

    // With the session, a form without its secret, or with another, is refused; so
    // is the right secret sent from another site.
    let line = url(&format!("/s/{slug}/zh-CN/cart/lines/{variant}"));
    for (secret, site) in [
        ("", "same-origin"),
        ("forged-secret-forged-secret-forged-secret-1", "same-origin"),
        (csrf.as_str(), "cross-site"),
    ] {
        let refused = form(
            browser
                .post(&line)
                .header("cookie", &session)
                .header("sec-fetch-site", site),
            &[("quantity", "7"), ("csrf", secret)],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(refused.status(), 403, "secret {secret:?} from {site}");
    }
    let changed = form(
        browser
            .post(&line)
            .header("cookie", &session)
            .header("sec-fetch-site", "same-origin"),
        &[("quantity", "3"), ("csrf", csrf.as_str())],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(changed.status(), 303);
    let html = browser
        .get(url(&format!("/s/{slug}/zh-CN/cart")))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("¥117.00"),
        "three after the change, none of the forged seven"
    );

    // Checkout: the same rendered form sent twice at once, and again later, places
    // one order and shows it each time.
    let page = browser
        .get(url(&format!(
            "/s/{slug}/zh-CN/checkout?country=CN&province=新疆维吾尔自治区"
        )))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let (key, rate, csrf) = {
        let document = scraper::Html::parse_document(&page);
        let value_of = |selector: &str| {
            let parsed = scraper::Selector::parse(selector).unwrap();
            document
                .select(&parsed)
                .next()
                .and_then(|input| input.value().attr("value"))
                .unwrap_or_else(|| panic!("no {selector} on the checkout page"))
                .to_owned()
        };
        (
            value_of("input[name=idempotency_key]"),
            value_of("input[name=shipping_rate_id]"),
            value_of("form.checkout input[name=csrf]"),
        )
    };
    let fields = [
        ("idempotency_key", key.as_str()),
        ("csrf", csrf.as_str()),
        ("email", "buyer@example.cn"),
        ("phone", "+86 991 555 0100"),
        ("recipient", "阿依古丽"),
        ("city", "乌鲁木齐市"),
        ("district", "天山区"),
        ("street", "解放南路 1 号"),
        ("postal_code", "830000"),
        ("country", "CN"),
        ("province", "新疆维吾尔自治区"),
        ("shipping_rate_id", rate.as_str()),
        ("note", ""),
    ];
    let submit = || {
        form(
            browser
                .post(url(&format!("/s/{slug}/zh-CN/checkout")))
                .header("cookie", &session)
                .header("sec-fetch-site", "same-origin"),
            &fields,
        )
        .send()
    };
    let (first, second) = tokio::join!(submit(), submit());
    let third = submit().await.unwrap();
    let mut places = Vec::new();
    for answer in [first.unwrap(), second.unwrap(), third] {
        assert_eq!(answer.status(), 303);
        places.push(answer.headers()["location"].to_str().unwrap().to_owned());
    }
    assert!(
        places[0].starts_with(&format!("/s/{slug}/zh-CN/orders/")),
        "{places:?}"
    );
    assert!(places.iter().all(|place| place == &places[0]), "{places:?}");
    let orders = caravan.get("/v1/orders", Some(&owner)).await;
    assert_eq!(orders["items"].as_array().unwrap().len(), 1, "one order");
    let status = browser
        .get(url(&places[0]))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        status.contains("待付款") && status.contains("¥129.00"),
        "3 × ¥39 + ¥12 shipping"
    );

    // Pages that do not exist answer in the buyer's language.
    let closed = browser
        .get(url("/s/no-such-shop/zh-CN/"))
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 404);
    assert!(closed.text().await.unwrap().contains("本店暂未营业"));
    let missing = browser
        .get(url(&format!("/s/{slug}/en/p/no-such-product")))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn a_signed_in_buyer_keeps_the_guest_cart_and_parallel_pages_refresh_the_token_once() {
    let caravan = start().await;
    let (slug, variant, _) = shop_with_a_product(&caravan).await;
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |path: &str| caravan.url(path);
    let same_site = ("sec-fetch-site", "same-origin");

    // A buyer with a verified account.
    let email = format!("buyer-{}@example.cn", Uuid::now_v7().simple());
    caravan
        .post(
            "/v1/auth/register",
            None,
            &json!({"email": email, "password": PASSWORD, "display_name": "Gulnar"}),
        )
        .await;
    let verification = wait_for_mail(&email, 1).await.unwrap();
    let link = verification[0]
        .text
        .lines()
        .find(|line| line.contains("/verify-email?token="))
        .expect("a verification link")
        .trim()
        .to_owned();
    assert!(link.starts_with("http://localhost:"), "{link}");
    let path = &link[link.find("/verify-email").unwrap()..];
    let page = browser.get(url(path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let session = session_cookie(&page);
    let html = page.text().await.unwrap();
    let token = path.split("token=").nth(1).unwrap();
    let verified = form(
        browser
            .post(url("/verify-email"))
            .header("cookie", &session)
            .header(same_site.0, same_site.1),
        &[("token", token), ("csrf", csrf_of(&html).as_str())],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(verified.status(), 200);
    assert!(verified.text().await.unwrap().contains("notice good"));

    // As a guest, two in the cart; then signing in keeps them, in the account's cart.
    let added = form(
        browser
            .post(url(&format!("/s/{slug}/zh-CN/cart/add")))
            .header(same_site.0, same_site.1),
        &[("variant_id", variant.as_str()), ("quantity", "2")],
    )
    .send()
    .await
    .unwrap();
    let session = session_cookie(&added);
    let sign_in = browser
        .get(url(&format!("/s/{slug}/zh-CN/account/sign-in")))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let signed_in = form(
        browser
            .post(url(&format!("/s/{slug}/zh-CN/account/sign-in")))
            .header("cookie", &session)
            .header(same_site.0, same_site.1),
        &[
            ("email", email.as_str()),
            ("password", PASSWORD),
            ("csrf", csrf_of(&sign_in).as_str()),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(signed_in.status(), 303);
    assert_eq!(
        signed_in.headers()["location"],
        format!("/s/{slug}/zh-CN/account")
    );
    let cart = browser
        .get(url(&format!("/s/{slug}/zh-CN/cart")))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(cart.contains("¥78.00"), "the guest's two units came along");

    // The access token runs out; four pages at once need it. One refreshes, the
    // others adopt its pair: a second use of the refresh token would revoke the
    // whole family and sign the buyer out.
    let mut stored = StoredSession::of(&caravan, &session).await;
    let mut body = stored.read().await;
    let before = body["account"]["refresh_token"].clone();
    body["account"]["expires_at"] = json!(0);
    stored.write(&body).await;
    let account = url(&format!("/s/{slug}/zh-CN/account"));
    let pages = futures_util::future::join_all(
        (0..4).map(|_| browser.get(&account).header("cookie", &session).send()),
    )
    .await;
    for page in pages {
        let page = page.unwrap();
        assert_eq!(page.status(), 200, "a page signed the buyer out");
        assert!(page.text().await.unwrap().contains(&email));
    }
    let body = stored.read().await;
    assert_ne!(body["account"]["refresh_token"], before, "refreshed");
    let again = browser
        .get(&account)
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200, "still signed in after the refresh");

    // Signing out ends the session and its cookie.
    let html = again.text().await.unwrap();
    let out = form(
        browser
            .post(url(&format!("/s/{slug}/zh-CN/account/sign-out")))
            .header("cookie", &session)
            .header(same_site.0, same_site.1),
        &[("csrf", csrf_of(&html).as_str())],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(out.status(), 303);
    assert!(set_cookie(&out).unwrap().contains("Max-Age=0"));
    let after = browser
        .get(&account)
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 303, "signed out: to the sign-in page");
}

/// Signs `email` in to the admin through its form, as a browser does: the session
/// cookie.
async fn admin_session(caravan: &Running, browser: &Client, email: &str) -> String {
    session_at(caravan, browser, "/admin", email).await
}

/// Signs `email` in at `{face}/sign-in` (the admin's or the console's) through its
/// form, as a browser does, asking to land on `{face}/orders` or `{face}/shops`: the
/// session cookie.
async fn session_at(caravan: &Running, browser: &Client, face: &str, email: &str) -> String {
    let page = browser
        .get(caravan.url(&format!("{face}/sign-in")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let cookie = session_cookie(&page);
    let html = page.text().await.unwrap();
    let next = if face == "/admin" {
        "/admin/orders"
    } else {
        "/ops/shops"
    };
    let signed_in = form(
        browser
            .post(caravan.url(&format!("{face}/sign-in")))
            .header("cookie", &cookie)
            .header("sec-fetch-site", "same-origin"),
        &[
            ("email", email),
            ("password", PASSWORD),
            ("csrf", csrf_of(&html).as_str()),
            ("next", next),
            ("lang", "zh-CN"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        signed_in.status(),
        303,
        "{email} could not sign in at {face}"
    );
    assert_eq!(signed_in.headers()["location"], next);
    cookie
}

#[tokio::test]
async fn the_admin_shows_each_shop_only_to_its_own_people() {
    let caravan = start().await;
    let (slug_a, variant_a, owner_a, owner_a_email) = shop_with_its_owner(&caravan).await;
    let (slug_b, variant_b, owner_b, _) = shop_with_its_owner(&caravan).await;
    let order_a = place_order(&caravan, &slug_a, &variant_a, 1).await;
    let order_b = place_order(&caravan, &slug_b, &variant_b, 1).await;
    let product_b = caravan.get("/v1/products", Some(&owner_b)).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |path: &str| caravan.url(path);

    // Nobody signed in: every admin page leads to the sign-in form, and back.
    let anonymous = browser.get(url("/admin/orders")).send().await.unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(
        anonymous.headers()["location"],
        "/admin/sign-in?next=%2Fadmin%2Forders"
    );
    // A sign-in that would lead elsewhere leads to the admin.
    let page = browser
        .get(url("/admin/sign-in?next=https://evil.example/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"name="next" value="/admin""#), "{page}");

    let owner = admin_session(&caravan, &browser, &owner_a_email).await;
    let open = |path: String, cookie: String| {
        let request = browser.get(url(&path)).header("cookie", cookie);
        async move { request.send().await.unwrap() }
    };
    let own = open(format!("/admin/orders/{order_a}"), owner.clone()).await;
    assert_eq!(own.status(), 200);
    assert!(own.text().await.unwrap().contains("#1001"));
    // Shop B's order and product, by their real ids: the same 404 page as an
    // unknown id, in the admin's language.
    for path in [
        format!("/admin/orders/{order_b}"),
        format!("/admin/orders/{}", Uuid::now_v7()),
        format!("/admin/products/{product_b}"),
        format!("/admin/orders/{order_b}/slip"),
    ] {
        let page = open(path.clone(), owner.clone()).await;
        assert_eq!(page.status(), 404, "{path}");
        let html = page.text().await.unwrap();
        assert!(html.contains(r#"<html lang="zh-CN""#), "{path}: {html}");
        assert!(!html.contains(&slug_b), "{path} shows shop B");
    }
    // Nor can a form act on it.
    let session_csrf = {
        let html = open(format!("/admin/orders/{order_a}"), owner.clone())
            .await
            .text()
            .await
            .unwrap();
        csrf_of(&html)
    };
    let cancel_b = form(
        browser
            .post(url(&format!("/admin/orders/{order_b}/cancel")))
            .header("cookie", &owner)
            .header("sec-fetch-site", "same-origin"),
        &[("csrf", session_csrf.as_str()), ("reason", "不是我们的")],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(cancel_b.status(), 404);
    let still = caravan
        .get(&format!("/v1/orders/{order_b}"), Some(&owner_b))
        .await;
    assert_eq!(still["status"], "pending_payment");
    // A form without the session's secret, or from another site, changes nothing.
    for (csrf, site) in [
        ("forged", "same-origin"),
        (session_csrf.as_str(), "cross-site"),
    ] {
        let refused = form(
            browser
                .post(url(&format!("/admin/orders/{order_a}/cancel")))
                .header("cookie", &owner)
                .header("sec-fetch-site", site),
            &[("csrf", csrf), ("reason", "伪造")],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(refused.status(), 403, "{csrf} {site}");
    }
    let untouched = caravan
        .get(&format!("/v1/orders/{order_a}"), Some(&owner_a))
        .await;
    assert_eq!(untouched["status"], "pending_payment");

    // A staff member of shop A: orders yes, the owner's pages no (a 403 page).
    let staff_email = format!("staff-{}@turpan.example.cn", Uuid::now_v7().simple());
    caravan
        .post(
            "/v1/auth/invitations",
            Some(&owner_a),
            &json!({"email": staff_email, "role": "staff"}),
        )
        .await;
    caravan.accept_invitation(&staff_email, &slug_a).await;
    let staff = admin_session(&caravan, &browser, &staff_email).await;
    assert_eq!(
        open(format!("/admin/orders/{order_a}"), staff.clone())
            .await
            .status(),
        200
    );
    for path in ["/admin/settings", "/admin/staff", "/admin/apps"] {
        let page = open(path.to_owned(), staff.clone()).await;
        assert_eq!(page.status(), 403, "{path}");
        assert!(page.text().await.unwrap().contains("<h1>"), "{path}");
    }

    // The owner's access token runs out; two admin pages at once both need it. One
    // refreshes, the other adopts its pair, and the owner stays signed in.
    let mut stored = StoredSession::of(&caravan, &owner).await;
    let mut body = stored.read().await;
    let before = body["staff"]["account"]["refresh_token"].clone();
    body["staff"]["account"]["expires_at"] = json!(0);
    stored.write(&body).await;
    let (orders, products) = futures_util::join!(
        open("/admin/orders".to_owned(), owner.clone()),
        open("/admin/products".to_owned(), owner.clone()),
    );
    assert_eq!(orders.status(), 200, "the orders page signed the owner out");
    assert_eq!(
        products.status(),
        200,
        "the products page signed the owner out"
    );
    let body = stored.read().await;
    assert_ne!(
        body["staff"]["account"]["refresh_token"], before,
        "refreshed"
    );
    assert_eq!(
        open("/admin".to_owned(), owner.clone()).await.status(),
        200,
        "still signed in"
    );

    // The product form saves what it shows, and its blank variant adds one.
    let product_a = caravan.get("/v1/products", Some(&owner_a)).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let page = open(format!("/admin/products/{product_a}"), owner.clone())
        .await
        .text()
        .await
        .unwrap();
    let mut fields = form_fields(&page, &format!("/admin/products/{product_a}"));
    let new_sku = format!("RAISIN-1KG-{}", &Uuid::now_v7().simple().to_string()[24..]);
    for (name, value) in [
        ("v1-sku", new_sku.as_str()),
        ("v1-price-CNY", "72.50"),
        ("v1-stock", "8"),
    ] {
        fields.retain(|(field, _)| field != name);
        fields.push((name.to_owned(), value.to_owned()));
    }
    let pairs: Vec<(&str, &str)> = fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let saved = form(
        browser
            .post(url(&format!("/admin/products/{product_a}")))
            .header("cookie", &owner)
            .header("sec-fetch-site", "same-origin"),
        &pairs,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(
        saved.status(),
        303,
        "{}",
        saved.text().await.unwrap_or_default()
    );
    let product = caravan
        .get(&format!("/v1/products/{product_a}"), Some(&owner_a))
        .await;
    let variants = product["variants"].as_array().unwrap();
    assert_eq!(variants.len(), 2, "{product}");
    let added = variants
        .iter()
        .find(|v| v["sku"] == new_sku.as_str())
        .unwrap();
    assert_eq!(
        added["prices"][0],
        json!({"amount": 7250, "currency": "CNY"})
    );
    assert_eq!(added["on_hand"], 8);
    assert_eq!(
        product["title"]["zh-CN"], "吐鲁番绿葡萄干",
        "the rest is unchanged"
    );

    // A category created, renamed and deleted through the admin's forms.
    let post_form = |path: String, fields: Vec<(&'static str, String)>| {
        let request = browser
            .post(url(&path))
            .header("cookie", owner.clone())
            .header("sec-fetch-site", "same-origin");
        async move {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(n, v)| (*n, v.as_str())).collect();
            form(request, &pairs).send().await.unwrap()
        }
    };
    let csrf = session_csrf.clone();
    let created = post_form(
        "/admin/categories".to_owned(),
        vec![
            ("csrf", csrf.clone()),
            ("handle", "dried".into()),
            ("name-zh-CN", "干果".into()),
            ("position", "0".into()),
        ],
    )
    .await;
    assert_eq!(created.status(), 303);
    let categories = caravan.get("/v1/categories", Some(&owner_a)).await["items"].take();
    let dried = categories
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["handle"] == "dried")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let renamed = post_form(
        format!("/admin/categories/{dried}"),
        vec![
            ("csrf", csrf.clone()),
            ("handle", "dried-fruit".into()),
            ("name-zh-CN", "干果".into()),
            ("name-ug", "قۇرۇق مېۋە".into()),
            ("position", "1".into()),
        ],
    )
    .await;
    assert_eq!(renamed.status(), 303);
    let categories = caravan.get("/v1/categories", Some(&owner_a)).await["items"].take();
    assert_eq!(categories[0]["handle"], "dried-fruit", "{categories}");
    assert_eq!(categories[0]["name"]["ug"], "قۇرۇق مېۋە");
    let deleted = post_form(
        format!("/admin/categories/{dried}/delete"),
        vec![("csrf", csrf)],
    )
    .await;
    assert_eq!(deleted.status(), 303);
    let categories = caravan.get("/v1/categories", Some(&owner_a)).await;
    assert_eq!(categories, json!({"items": [], "next_cursor": null}));
}

/// The fields of the form posting to `action` on a page, as a browser would send
/// them: inputs with their values (checked boxes only), selected options, textareas.
fn form_fields(html: &str, action: &str) -> Vec<(String, String)> {
    let document = scraper::Html::parse_document(html);
    let form_selector = scraper::Selector::parse(&format!("form[action=\"{action}\"]")).unwrap();
    let form = document.select(&form_selector).next().expect("the form");
    let mut fields = Vec::new();
    let inputs = scraper::Selector::parse("input[name], textarea[name], select[name]").unwrap();
    for element in form.select(&inputs) {
        let name = element.value().attr("name").unwrap().to_owned();
        match element.value().name() {
            "textarea" => fields.push((name, element.text().collect())),
            "select" => {
                let option = scraper::Selector::parse("option[selected]").unwrap();
                if let Some(chosen) = element.select(&option).next() {
                    fields.push((name, chosen.value().attr("value").unwrap_or("").to_owned()));
                }
            }
            _ => {
                let kind = element.value().attr("type").unwrap_or("text");
                if (kind == "checkbox" || kind == "radio")
                    && element.value().attr("checked").is_none()
                {
                    continue;
                }
                fields.push((name, element.value().attr("value").unwrap_or("").to_owned()));
            }
        }
    }
    fields
}

/// The application form and the operators' console are where strangers start:
/// hostile input is refused with sentences, escaped wherever it is shown, and
/// stores nothing; only platform operators get into the console, and its forms act
/// only with the session's secret from the platform's own pages.
#[tokio::test]
async fn the_application_form_and_the_console_hold_against_hostile_input() {
    let caravan = start().await;
    let operator = caravan.login(&caravan.operator_email.clone(), None).await;
    let (_, _, _, owner_email) = shop_with_its_owner(&caravan).await;
    let browser = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = |path: &str| caravan.url(path);
    let applications = || async {
        caravan
            .get("/v1/tenants/applications?limit=100", Some(&operator))
            .await["items"]
            .as_array()
            .unwrap()
            .len()
    };
    let before = applications().await;

    let page = browser.get(url("/apply?lang=en")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let cookie = session_cookie(&page);
    let csrf = csrf_of(&page.text().await.unwrap());
    let hostile = "<script>alert('caravan')</script>";

    // The address check says a malformed address is one, and echoes it escaped.
    let check = browser
        .get(url(&format!(
            "/apply/slug?lang=en&{}",
            serde_urlencoded::to_string([("slug", hostile)]).unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(check.status(), 200);
    let fragment = check.text().await.unwrap();
    assert!(
        fragment.contains("Use 3 to 40 small Latin letters"),
        "{fragment}"
    );
    assert!(!fragment.contains("<script>alert"), "{fragment}");

    // Hostile, overlong and malformed values: a 422 page of sentences, nothing kept.
    let long = "枸".repeat(2100);
    let sent = form(
        browser
            .post(url("/apply?lang=en"))
            .header("cookie", &cookie)
            .header("sec-fetch-site", "same-origin"),
        &[
            ("csrf", csrf.as_str()),
            ("name-en", hostile),
            ("name-ug", &long),
            ("slug", "../../etc/passwd"),
            ("region", "Ningxia"),
            ("contact_name", hostile),
            ("email", "not-an-email"),
            ("phone", "call me"),
            ("description", &long),
            ("plan", "platinum"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(sent.status(), 422);
    let html = sent.text().await.unwrap();
    assert!(
        !html.contains("<script>alert"),
        "hostile input echoed raw: {html}"
    );
    assert!(
        html.contains("&lt;script&gt;") || html.contains("&#60;script&#62;"),
        "{html}"
    );
    assert!(
        html.contains(r#"role="alert""#),
        "the refusal is said: {html}"
    );
    assert!(
        !html.contains("validation_failed"),
        "a code, not a sentence: {html}"
    );
    assert_eq!(
        applications().await,
        before,
        "a refused application is not kept"
    );

    // The same form from another site, or without the session's secret: 403.
    for (site, secret) in [("cross-site", csrf.as_str()), ("same-origin", "forged")] {
        let forged = form(
            browser
                .post(url("/apply?lang=en"))
                .header("cookie", &cookie)
                .header("sec-fetch-site", site),
            &[
                ("csrf", secret),
                ("name-en", "Forged"),
                ("slug", "forged-shop"),
            ],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(forged.status(), 403, "{site} {secret}");
    }
    assert_eq!(applications().await, before);

    // The console: nobody signed in is asked to sign in (and comes back), a shop's
    // staff get 403 on every page, an operator gets in.
    let anonymous = browser.get(url("/ops/shops")).send().await.unwrap();
    assert_eq!(anonymous.status(), 303);
    assert_eq!(
        anonymous.headers()["location"],
        "/ops/sign-in?next=%2Fops%2Fshops"
    );
    let staff = admin_session(&caravan, &browser, &owner_email).await;
    for path in ["/ops", "/ops/shops", "/ops/applications", "/ops/events"] {
        let page = browser
            .get(url(path))
            .header("cookie", &staff)
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 403, "a shop's owner opening {path}");
    }
    let ops = session_at(&caravan, &browser, "/ops", &caravan.operator_email.clone()).await;
    let shops = browser
        .get(url(&format!(
            "/ops/shops?{}",
            serde_urlencoded::to_string([("q", hostile)]).unwrap()
        )))
        .header("cookie", &ops)
        .send()
        .await
        .unwrap();
    assert_eq!(shops.status(), 200);
    let html = shops.text().await.unwrap();
    assert!(!html.contains("<script>alert"), "{html}");
    let ops_csrf = csrf_of(&html);

    // An operator's action needs the session's secret and a page of this site.
    let keys = || async {
        caravan.get("/.well-known/jwks.json", None).await["keys"]
            .as_array()
            .unwrap()
            .len()
    };
    let before_keys = keys().await;
    for (site, secret) in [("cross-site", ops_csrf.as_str()), ("same-origin", "forged")] {
        let forged = form(
            browser
                .post(url("/ops/keys/rotate"))
                .header("cookie", &ops)
                .header("sec-fetch-site", site),
            &[("csrf", secret)],
        )
        .send()
        .await
        .unwrap();
        assert_eq!(forged.status(), 403, "{site} {secret}");
    }
    assert_eq!(keys().await, before_keys, "no key was rotated");
    // A suspension needs a reason: none is a sentence, and the shop stays open.
    let shop = caravan.get("/v1/tenants?limit=1", Some(&operator)).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unreasoned = form(
        browser
            .post(url(&format!("/ops/shops/{shop}/suspend")))
            .header("cookie", &ops)
            .header("sec-fetch-site", "same-origin"),
        &[
            ("csrf", ops_csrf.as_str()),
            ("reason", "   "),
            ("confirmed", "yes"),
        ],
    )
    .send()
    .await
    .unwrap();
    assert_eq!(unreasoned.status(), 422);
    let still = caravan
        .get(&format!("/v1/tenants/{shop}"), Some(&operator))
        .await;
    assert_eq!(still["status"], "active");

    // Ten applications an hour from one address; the eleventh is told so in words.
    let suffix = &Uuid::now_v7().simple().to_string()[20..];
    let apply = |n: usize| {
        let slug = format!("throttle-{suffix}-{n}");
        let email = format!("{slug}@apply.example.cn");
        let request = form(
            browser
                .post(url("/apply?lang=en"))
                .header("cookie", &cookie)
                .header("sec-fetch-site", "same-origin"),
            &[
                ("csrf", csrf.as_str()),
                ("name-en", "Kashgar Apricots"),
                ("slug", slug.as_str()),
                ("region", "Xinjiang"),
                ("contact_name", "Aziz"),
                ("email", email.as_str()),
                ("phone", "+86 998 555 0100"),
                ("description", "Dried apricots."),
                ("plan", "free"),
            ],
        );
        async move { request.send().await.unwrap() }
    };
    for n in 0..10 {
        let made = apply(n).await;
        assert_eq!(made.status(), 303, "application {n}");
    }
    let throttled = apply(10).await;
    assert_eq!(throttled.status(), 429);
    let html = throttled.text().await.unwrap();
    assert!(
        html.contains("Too many applications came from your network"),
        "{html}"
    );
    assert_eq!(applications().await, before + 10);
}
