//! Storefront reads per second and their latency, after a 10,000-row CSV import
//! (whose duration is printed too), on this machine.
//!
//! ```sh
//! cargo run --release -p caravan-catalog --example storefront_bench -- --seconds 10 --concurrency 16
//! ```

use caravan_shared::config::ServiceName;
use caravan_shared::identity::Role;
use caravan_shared::tenant_status;
use caravan_shared::testing::TestApp;
use caravan_shared::testing::bench::{argument, load};
use std::fmt::Write;
use std::time::Instant;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let seconds = argument("--seconds", 10);
    let concurrency = argument("--concurrency", 16);
    let rows = argument("--rows", 10_000);
    let app = TestApp::spawn::<caravan_catalog::migrations::Migrations, _, _>(
        ServiceName::Catalog,
        caravan_catalog::startup::build,
        &[("RUST_LOG", "warn"), ("DATABASE_MAX_CONNECTIONS", "16")],
    )
    .await?;
    let shop = uuid::Uuid::now_v7();
    let slug = "bench-goji";
    let pool = caravan_shared::db::connect(&app.database.runtime_url, 1).await?;
    let tx = caravan_shared::tenancy::TenantTx::begin(&pool, shop.into()).await?;
    tenant_status::record(tx.conn(), shop, slug, Some("active"), Some("pro"), None).await?;
    tx.commit().await?;
    let owner = app
        .keys
        .member(shop, Role::Owner, &["catalog:read", "catalog:write"]);

    // Two variants per product.
    let mut csv = String::from(
        "handle,status,title.zh-CN,title.en,title.ug,tags,origin_province,sku,unit,weight_grams,prices,stock\n",
    );
    for row in 0..rows {
        let product = row / 2;
        let (name, place) = match product % 3 {
            0 => ("宁夏枸杞", "Ningxia"),
            1 => ("吐鲁番葡萄干", "Xinjiang"),
            _ => ("和田大枣", "Xinjiang"),
        };
        writeln!(
            csv,
            "product-{product},active,{name} {product},Product {product},مەھسۇلات {product},produce|dried,{place},SKU-{row},piece,{},{} CNY|{} USD,{}",
            500 + row % 7 * 100,
            1000 + product % 500 * 10,
            150 + product % 500,
            row % 50
        )?;
    }
    let started = Instant::now();
    let report: serde_json::Value = app
        .client
        .post(app.url("/v1/products/import"))
        .bearer_auth(&owner)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await?
        .json()
        .await?;
    println!(
        "CSV import of {rows} rows ({} products): {:.2} s (created rows {}, failed {})",
        rows / 2,
        started.elapsed().as_secs_f64(),
        report["created"],
        report["failed"]
    );

    let client = app.client.clone();
    let list_url = app.url(&format!("/v1/shops/{slug}/products?limit=20"));
    let (c, u) = (client.clone(), list_url.clone());
    load(
        "GET /v1/shops/{shop}/products (20 per page)",
        seconds,
        concurrency,
        move || {
            let (client, url) = (c.clone(), u.clone());
            async move {
                anyhow::ensure!(
                    client.get(&url).send().await?.status() == 200,
                    "list failed"
                );
                Ok(())
            }
        },
    )
    .await?;
    let search_url = app.url(&format!(
        "/v1/shops/{slug}/products?limit=20&q=%E6%9E%B8%E6%9D%9E"
    ));
    let (c, u) = (client.clone(), search_url);
    load(
        "GET …/products?q=枸杞 (search)",
        seconds,
        concurrency,
        move || {
            let (client, url) = (c.clone(), u.clone());
            async move {
                anyhow::ensure!(
                    client.get(&url).send().await?.status() == 200,
                    "search failed"
                );
                Ok(())
            }
        },
    )
    .await?;
    let (c, base) = (
        client.clone(),
        app.url(&format!("/v1/shops/{slug}/products/")),
    );
    let counter = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let products = rows / 2;
    load(
        "GET /v1/shops/{shop}/products/{handle}",
        seconds,
        concurrency,
        move || {
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % products.max(1);
            let (client, url) = (c.clone(), format!("{base}product-{n}?locale=en"));
            async move {
                anyhow::ensure!(
                    client.get(&url).send().await?.status() == 200,
                    "detail failed"
                );
                Ok(())
            }
        },
    )
    .await?;
    Ok(())
}
