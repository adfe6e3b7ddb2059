use caravan_shared::config::ServiceName;
use caravan_shared::identity::Role;
use caravan_shared::testing::{TestApp, reserve_port};
use reqwest::Response;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

pub use caravan_shared::testing::{problem, unique_email};

/// The order service with a real catalog beside it, sharing one Redis prefix; the
/// tenant service is played by an event producer under its name, so shops exist
/// when its `tenant.activated` events reach both services over the real backbone.
pub struct Stack {
    pub order: TestApp,
    pub catalog: TestApp,
    pub tenant: TestApp,
    /// The real auth service, when the stack was started with one.
    pub auth: Option<TestApp>,
    /// The test card gateway's webhook secret, generated for this stack, when the
    /// gateway is turned on.
    pub gateway_secret: Option<String>,
}

/// The stack with the test card gateway turned on, as the tests that pay by card
/// need it: explicitly, with a secret of its own.
pub async fn spawn_stack() -> Stack {
    spawn_stack_with(false, &[]).await
}

pub async fn spawn_stack_with(real_auth: bool, order_overrides: &[(&str, &str)]) -> Stack {
    spawn(real_auth, true, order_overrides).await
}

/// The stack as a deployment runs it by default: the test card gateway is off.
pub async fn spawn_stack_without_gateway() -> Stack {
    spawn(false, false, &[]).await
}

/// The services call each other, so their ports are bound before any starts
/// ([`reserve_port`]); a service serves on the listener reserved for it.
async fn spawn(real_auth: bool, gateway: bool, order_overrides: &[(&str, &str)]) -> Stack {
    let prefix = format!("caravan-test-{}", Uuid::now_v7().simple());
    let (order_port, catalog_port) = (reserve_port(), reserve_port());
    let auth_port = if real_auth { reserve_port() } else { 0 };
    let order_url = format!("http://127.0.0.1:{order_port}");
    let catalog_url = format!("http://127.0.0.1:{catalog_port}");
    let auth_url = format!("http://127.0.0.1:{auth_port}");
    let mut producer: Vec<(&str, &str)> = vec![("REDIS_PREFIX", &prefix)];
    if real_auth {
        // The other services' tokens come from the real auth service then.
        producer.push(("AUTH_URL", &auth_url));
    }
    let tenant = TestApp::spawn_producer(ServiceName::Tenant, &producer)
        .await
        .expect("the tenant producer starts");
    let auth = if real_auth {
        Some(
            TestApp::spawn::<caravan_auth::migrations::Migrations, _, _>(
                ServiceName::Auth,
                caravan_auth::startup::build,
                &[
                    ("BIND", &format!("127.0.0.1:{auth_port}")),
                    ("AUTH_URL", &auth_url),
                    ("TENANT_URL", &tenant.address),
                    ("REDIS_PREFIX", &prefix),
                ],
            )
            .await
            .expect("the auth service starts"),
        )
    } else {
        None
    };
    let auth_url = auth
        .as_ref()
        .map_or(tenant.keys.auth_url.clone(), |auth| auth.address.clone());
    let catalog = TestApp::spawn::<caravan_catalog::migrations::Migrations, _, _>(
        ServiceName::Catalog,
        caravan_catalog::startup::build,
        &[
            ("BIND", &format!("127.0.0.1:{catalog_port}")),
            ("AUTH_URL", &auth_url),
            ("TENANT_URL", &tenant.address),
            ("ORDER_URL", &order_url),
            ("REDIS_PREFIX", &prefix),
            ("DATABASE_MAX_CONNECTIONS", "10"),
        ],
    )
    .await
    .expect("the catalog service starts");
    let bind = format!("127.0.0.1:{order_port}");
    let mut settings: Vec<(&str, &str)> = vec![
        ("BIND", &bind),
        ("AUTH_URL", &auth_url),
        ("TENANT_URL", &tenant.address),
        ("CATALOG_URL", &catalog_url),
        ("REDIS_PREFIX", &prefix),
        ("DATABASE_MAX_CONNECTIONS", "10"),
        ("ORDER_EXPIRY_INTERVAL_MS", "100"),
    ];
    let gateway_secret = gateway.then(caravan_shared::config::generate_secret);
    if let Some(secret) = &gateway_secret {
        settings.push(("PAYMENT_TEST_GATEWAY", "true"));
        settings.push(("PAYMENT_TEST_WEBHOOK_SECRET", secret));
    }
    settings.extend_from_slice(order_overrides);
    let order = TestApp::spawn::<caravan_order::migrations::Migrations, _, _>(
        ServiceName::Order,
        caravan_order::startup::build,
        &settings,
    )
    .await
    .expect("the order service starts");
    Stack {
        order,
        catalog,
        tenant,
        auth,
        gateway_secret,
    }
}

/// A shop known to every service, its owner's token and one product on sale.
pub struct Shop {
    pub id: Uuid,
    pub slug: String,
    pub owner: String,
    pub contact: String,
    pub product: Uuid,
    pub variant: Uuid,
    pub zone: Value,
}

pub const STAFF_SCOPES: &[&str] = &[
    "catalog:read",
    "catalog:write",
    "orders:read",
    "orders:write",
];

impl Stack {
    /// Opens a shop: the tenant service's event, then waits until catalog and order
    /// serve its storefront.
    pub async fn open_shop(&self, max_orders: Option<i32>) -> Uuid {
        self.open_shop_for(&unique_email("owner"), max_orders).await
    }

    pub async fn open_shop_for(&self, owner_email: &str, max_orders: Option<i32>) -> Uuid {
        let id = Uuid::now_v7();
        let slug = format!("coop-{}", &id.simple().to_string()[20..]);
        self.tenant
            .publish(
                "tenant.activated",
                Some(id),
                json!({
                    "slug": slug, "name": "宁夏中宁枸杞合作社", "status": "active", "plan": "standard",
                    "quotas": {"max_products": null, "max_staff": null, "max_orders_per_month": max_orders},
                    "owner_email": owner_email, "owner_name": "马军", "contact_email": unique_email("shop"),
                    "base_currency": "CNY", "currencies": ["CNY", "USD"],
                    "default_locale": "zh-CN", "locales": ["zh-CN", "en", "ug"], "timezone": "Asia/Shanghai",
                }),
            )
            .await
            .unwrap();
        id
    }

    /// A shop with one goji product (`stock` units at ¥68.00, 520 g) and a
    /// mainland zone: ¥12 up to 1 kg, ¥25 above, free from ¥500.
    pub async fn shop(&self, stock: i32) -> Shop {
        self.shop_with(stock, None).await
    }

    pub async fn shop_with(&self, stock: i32, max_orders: Option<i32>) -> Shop {
        let id = self.open_shop(max_orders).await;
        let owner = self.tenant.keys.member(id, Role::Owner, STAFF_SCOPES);
        let slug = self.wait_for_shop(id).await;
        let product = self
            .create_product(&owner, &format!("goji-{}", Uuid::now_v7().simple()), stock)
            .await;
        let zone = self
            .order
            .post_with(
                &owner,
                "/v1/shipping-zones",
                &json!({
                    "name": "中国大陆", "countries": ["CN"],
                    "free_shipping_threshold": {"amount": 50000, "currency": "CNY"},
                    "rates": [
                        {"name": "顺丰 1 kg 内", "min_weight_grams": 0, "max_weight_grams": 1000, "price": {"amount": 1200, "currency": "CNY"}},
                        {"name": "顺丰 1 kg 以上", "min_weight_grams": 1000, "price": {"amount": 2500, "currency": "CNY"}}
                    ]
                }),
            )
            .await;
        assert_eq!(zone.status(), 201);
        let zone: Value = zone.json().await.unwrap();
        let contact = self.contact_email(id).await;
        Shop {
            id,
            slug,
            owner,
            contact,
            product: product.0,
            variant: product.1,
            zone,
        }
    }

    async fn contact_email(&self, tenant: Uuid) -> String {
        let pool = caravan_shared::db::connect(&self.order.database.owner_url, 1)
            .await
            .unwrap();
        let row = sea_orm::ConnectionTrait::query_one_raw(
            &pool,
            sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT contact_email FROM tenant_status WHERE tenant_id = $1",
                [tenant.into()],
            ),
        )
        .await
        .unwrap()
        .unwrap();
        row.try_get("", "contact_email").unwrap()
    }

    /// Waits until both services know the shop; answers its slug.
    pub async fn wait_for_shop(&self, id: Uuid) -> String {
        let slug = format!("coop-{}", &id.simple().to_string()[20..]);
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let catalog = self
                .catalog
                .get(&format!("/v1/shops/{slug}/products"))
                .await
                .status();
            let order = self
                .order
                .post(&format!("/v1/shops/{slug}/carts"), &json!({}))
                .await
                .status();
            let facts = self.has_shop_facts(id).await;
            if catalog == 200 && order == 201 && facts {
                return slug;
            }
            assert!(
                Instant::now() < deadline,
                "the shop never reached the services"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn has_shop_facts(&self, tenant: Uuid) -> bool {
        let pool = caravan_shared::db::connect(&self.order.database.owner_url, 1)
            .await
            .unwrap();
        sea_orm::ConnectionTrait::query_one_raw(
            &pool,
            sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "SELECT 1 AS known FROM tenant_status WHERE tenant_id = $1",
                [tenant.into()],
            ),
        )
        .await
        .unwrap()
        .is_some()
    }

    /// Creates an active product with one variant; answers (product, variant).
    pub async fn create_product(&self, owner: &str, handle: &str, stock: i32) -> (Uuid, Uuid) {
        let response = self
            .catalog
            .post_with(
                owner,
                "/v1/products",
                &json!({
                "handle": handle, "status": "active",
                "title": {"zh-CN": "宁夏中宁枸杞", "en": "Ningxia goji berries"},
                "variants": [{
                    "sku": format!("GOJI-{}", Uuid::now_v7().simple()), "unit": "box", "weight_grams": 520,
                    "title": {"zh-CN": "500克", "en": "500 g"},
                    "prices": [{"amount": 6800, "currency": "CNY"}, {"amount": 950, "currency": "USD"}],
                    "stock": stock
                }]
                }),
            )
            .await;
        assert_eq!(response.status(), 201);
        let product: Value = response.json().await.unwrap();
        (
            product["id"].as_str().unwrap().parse().unwrap(),
            product["variants"][0]["id"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap(),
        )
    }

    /// The variant's stock as staff see it: (on_hand, reserved).
    pub async fn stock(&self, shop: &Shop, variant: Uuid) -> (i64, i64) {
        self.stock_of(&shop.owner, shop.product, variant).await
    }

    /// The stock of a variant of `product`: (on_hand, reserved).
    pub async fn stock_of(&self, owner: &str, product: Uuid, variant: Uuid) -> (i64, i64) {
        let product: Value = self
            .catalog
            .get_with(owner, &format!("/v1/products/{product}"))
            .await
            .json()
            .await
            .unwrap();
        let found = product["variants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == variant.to_string())
            .unwrap()
            .clone();
        (
            found["on_hand"].as_i64().unwrap(),
            found["reserved"].as_i64().unwrap(),
        )
    }

    /// Waits until the variant's stock is (on_hand, reserved).
    pub async fn wait_for_stock(&self, shop: &Shop, variant: Uuid, expected: (i64, i64)) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let stock = self.stock(shop, variant).await;
            if stock == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "stock is {stock:?}, expected {expected:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A new, empty guest cart of the shop; answers (id, token).
    pub async fn empty_cart(&self, shop: &Shop) -> (String, String) {
        let cart: Value = self
            .order
            .post(&format!("/v1/shops/{}/carts", shop.slug), &json!({}))
            .await
            .json()
            .await
            .unwrap();
        (
            cart["id"].as_str().unwrap().to_owned(),
            cart["token"].as_str().unwrap().to_owned(),
        )
    }

    /// A guest cart holding `quantity` of the shop's variant; answers (id, token).
    pub async fn cart(&self, shop: &Shop, quantity: i32) -> (String, String) {
        let (id, token) = self.empty_cart(shop).await;
        let added = self
            .order
            .client
            .post(
                self.order
                    .url(&format!("/v1/shops/{}/carts/{id}/lines", shop.slug)),
            )
            .header("X-Cart-Token", &token)
            .json(&json!({"variant_id": shop.variant, "quantity": quantity}))
            .send()
            .await
            .unwrap();
        assert_eq!(added.status(), 200);
        (id, token)
    }

    /// The cheapest shipping option to Shanghai for the cart.
    pub async fn rate_for(&self, shop: &Shop, cart: &(String, String)) -> String {
        let cart: Value = self
            .order
            .client
            .get(self.order.url(&format!(
                "/v1/shops/{}/carts/{}?country=CN&province=上海市",
                shop.slug, cart.0
            )))
            .header("X-Cart-Token", &cart.1)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        cart["shipping_options"][0]["rate_id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub fn checkout_body(&self, cart: &(String, String), rate: &str, email: &str) -> Value {
        json!({
            "cart_id": cart.0, "email": email, "phone": "+86 138 0013 8000",
            "shipping_address": {
                "country": "CN", "province": "上海市", "city": "上海市", "district": "浦东新区",
                "street": "世纪大道 100 号 2 栋 1801 室", "postal_code": "200120", "recipient": "王芳"
            },
            "shipping_rate_id": rate, "note": "请工作日送货"
        })
    }

    pub async fn checkout(
        &self,
        shop: &Shop,
        cart: &(String, String),
        key: &str,
        body: &Value,
    ) -> Response {
        self.order
            .client
            .post(self.order.url(&format!("/v1/shops/{}/checkout", shop.slug)))
            .header("X-Cart-Token", &cart.1)
            .header("Idempotency-Key", key)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Cart → checkout as a guest; answers the order (with its access token).
    pub async fn place_order(&self, shop: &Shop, quantity: i32, email: &str) -> Value {
        let cart = self.cart(shop, quantity).await;
        let rate = self.rate_for(shop, &cart).await;
        let body = self.checkout_body(&cart, &rate, email);
        let response = self
            .checkout(shop, &cart, &Uuid::now_v7().to_string(), &body)
            .await;
        assert_eq!(response.status(), 201);
        response.json().await.unwrap()
    }

    /// Pays an order with a test card; answers the response.
    pub async fn pay(&self, shop: &Shop, order: &Value, card: &str) -> Response {
        self.pay_request(shop, order, card).send().await.unwrap()
    }

    /// The buyer's request paying `order` with a test card, to send later (or from a
    /// task of its own).
    pub fn pay_request(&self, shop: &Shop, order: &Value, card: &str) -> reqwest::RequestBuilder {
        self.order
            .client
            .post(self.order.url(&format!(
                "/v1/shops/{}/orders/{}/payments",
                shop.slug,
                order["id"].as_str().unwrap()
            )))
            .header("X-Order-Token", order["access_token"].as_str().unwrap())
            .json(&json!({"provider": "test", "card_number": card}))
    }

    /// Sends the test gateway's notification `body`, signed with this stack's secret.
    pub async fn notify(&self, body: &Value) -> Response {
        let secret = self
            .gateway_secret
            .as_deref()
            .expect("the test gateway is off in this stack");
        self.notify_signed(
            &caravan_order::payments::TestGateway::sign(secret, body.to_string().as_bytes()),
            body,
        )
        .await
    }

    /// Sends the test gateway's notification `body` with `signature`.
    pub async fn notify_signed(&self, signature: &str, body: &Value) -> Response {
        self.order
            .client
            .post(self.order.url("/v1/payments/test/webhooks"))
            .header("Test-Gateway-Signature", signature)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// The order as the shop's staff see it.
    pub async fn staff_view(&self, shop: &Shop, order: &Value) -> Value {
        let response = self
            .order
            .get_with(
                &shop.owner,
                &format!("/v1/orders/{}", order["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(response.status(), 200);
        response.json().await.unwrap()
    }

    /// A paid order of `quantity` units.
    pub async fn paid_order(&self, shop: &Shop, quantity: i32) -> Value {
        let order = self
            .place_order(shop, quantity, &unique_email("buyer"))
            .await;
        let paid = self.pay(shop, &order, "4242424242424242").await;
        assert_eq!(paid.status(), 200);
        let mut paid: Value = paid.json().await.unwrap();
        paid["access_token"] = order["access_token"].clone();
        paid
    }

    /// The rows `sql` selects from the order database, read as its owner (which row-
    /// level security does not hide anything from), as a JSON array of objects.
    pub async fn order_rows(&self, sql: &str) -> Vec<Value> {
        let pool = caravan_shared::db::connect(&self.order.database.owner_url, 1)
            .await
            .unwrap();
        let row = sea_orm::ConnectionTrait::query_one_raw(
            &pool,
            sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                format!("SELECT coalesce(jsonb_agg(q), '[]') AS rows FROM ({sql}) q"),
            ),
        )
        .await
        .unwrap()
        .unwrap();
        let rows: Value = row.try_get("", "rows").unwrap();
        rows.as_array().unwrap().clone()
    }

    /// Runs SQL on the order database as its owner (to move time forward).
    pub async fn order_sql(&self, sql: &str) {
        let pool = caravan_shared::db::connect(&self.order.database.owner_url, 1)
            .await
            .unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(&pool, sql)
            .await
            .unwrap();
    }
}
