use caravan_shared::TenantId;
use caravan_shared::config::ServiceName;
use caravan_shared::identity::Role;
use caravan_shared::tenancy::TenantTx;
use caravan_shared::tenant_status::{self, Quotas};
use caravan_shared::testing::TestApp;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// The catalog service on a random port with a database of its own. Its photos
/// go to a directory shared by the tests that do not look at them.
pub async fn spawn_app() -> TestApp {
    let shared = std::env::temp_dir().join("caravan-catalog-test-media");
    spawn_app_with(&[("MEDIA_STORE", &format!("file://{}", shared.display()))]).await
}

/// The catalog service with settings of the test's own on top.
pub async fn spawn_app_with(overrides: &[(&str, &str)]) -> TestApp {
    // No tenant service runs here: the shops' states are set directly below.
    let tenant_url = format!("http://127.0.0.1:{}", caravan_shared::testing::free_port());
    let mut settings = vec![("TENANT_URL", tenant_url.as_str())];
    settings.extend_from_slice(overrides);
    TestApp::spawn::<caravan_catalog::migrations::Migrations, _, _>(
        ServiceName::Catalog,
        caravan_catalog::startup::build,
        &settings,
    )
    .await
    .expect("the catalog service starts")
}

/// A photo directory of one test's own, removed when the test ends.
pub struct MediaDir(pub std::path::PathBuf);

impl MediaDir {
    pub fn new() -> Self {
        Self(std::env::temp_dir().join(format!("caravan-media-{}", Uuid::new_v4())))
    }

    /// `MEDIA_STORE` naming it.
    pub fn setting(&self) -> String {
        format!("file://{}", self.0.display())
    }

    /// The files in it, as keys relative to it.
    pub fn files(&self) -> Vec<String> {
        fn walk(dir: &std::path::Path, root: &std::path::Path, found: &mut Vec<String>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, root, found);
                } else {
                    found.push(path.strip_prefix(root).unwrap().display().to_string());
                }
            }
        }
        let mut found = Vec::new();
        walk(&self.0, &self.0, &mut found);
        found.sort();
        found
    }
}

impl Drop for MediaDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A shop known to the catalog (as the tenant service's events would make it), and
/// its owner's token.
pub struct Shop {
    pub id: Uuid,
    pub slug: String,
    pub owner: String,
}

pub async fn shop(app: &TestApp, status: &str, max_products: Option<i32>) -> Shop {
    let id = Uuid::now_v7();
    let slug = format!("shop-{}", &id.simple().to_string()[20..]);
    let pool = caravan_shared::db::connect(&app.database.runtime_url, 1)
        .await
        .unwrap();
    // The shop's row, in the shop's own transaction (as the event handler writes it).
    let tx = TenantTx::begin(&pool, TenantId::from(id)).await.unwrap();
    tenant_status::record(
        tx.conn(),
        id,
        &slug,
        Some(status),
        Some("free"),
        Some(Quotas {
            max_products,
            max_staff: None,
            max_orders_per_month: None,
        }),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    Shop {
        id,
        slug,
        owner: app.keys.member(
            id,
            Role::Owner,
            &[
                "catalog:read",
                "catalog:write",
                "orders:read",
                "orders:write",
                "webhooks:write",
            ],
        ),
    }
}

pub async fn set_status(app: &TestApp, shop: &Shop, status: &str) {
    let pool = caravan_shared::db::connect(&app.database.runtime_url, 1)
        .await
        .unwrap();
    let tx = TenantTx::begin(&pool, TenantId::from(shop.id))
        .await
        .unwrap();
    tenant_status::record(tx.conn(), shop.id, &shop.slug, Some(status), None, None)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

pub fn goji(handle: &str, sku: &str, stock: i32) -> Value {
    json!({
        "handle": handle, "status": "active",
        "title": {"zh-CN": "宁夏中宁枸杞", "en": "Ningxia goji berries", "ug": "نىڭشيا لەڭزە"},
        "description": {"zh-CN": "中宁县头茬枸杞", "en": "First-harvest berries from Zhongning"},
        "tags": ["goji", "dried-fruit"],
        "origin": {"country": "CN", "province": "Ningxia", "place": "Zhongning"},
        "harvest_months": [6, 7, 8], "shelf_life_days": 365, "storage": "ambient",
        "certifications": ["GI: Ningxia goji"],
        "variants": [{
            "sku": sku, "unit": "piece", "weight_grams": 520,
            "title": {"zh-CN": "500克", "en": "500 g"},
            "prices": [{"amount": 6800, "currency": "CNY"}, {"amount": 950, "currency": "USD"}],
            "stock": stock, "low_stock_threshold": 5
        }]
    })
}

pub use caravan_shared::testing::problem;

/// How soon a change reaches the storefront's held answers, and how often a test looks.
pub const WITHIN: Duration = Duration::from_secs(1);
pub const POLL: Duration = Duration::from_millis(50);

/// A buyer's GET: the status and the JSON body (null when there is none).
pub async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    let response = app.client.get(app.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Polls `path` until `done` holds of its answer; answers how long it took.
pub async fn until(app: &TestApp, path: &str, done: impl Fn(u16, &Value) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let (status, body) = get(app, path).await;
        if done(status, &body) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{path} never changed: {status} {body}"
        );
        tokio::time::sleep(POLL).await;
    }
}
