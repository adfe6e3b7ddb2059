//! The storefront's answers and the shops' states are held in memory; a change made
//! by staff, by the tenant service's events or behind the service's back reaches
//! buyers within a second, and one shop's answers never answer another.

use crate::helpers::{POLL, Shop, WITHIN, get, goji, set_status, shop, spawn_app, until};
use caravan_shared::testing::TestApp;
use sea_orm::{ConnectionTrait, DatabaseConnection};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

async fn owner(app: &TestApp) -> DatabaseConnection {
    caravan_shared::db::connect(&app.database.owner_url, 1)
        .await
        .unwrap()
}

/// Waits until the service's caches (shops, storefront) listen, on their one
/// connection: before, they are bypassed and a test of them would prove nothing.
async fn wait_for_listeners(app: &TestApp) {
    let owner = owner(app).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listening = caravan_shared::testing::count(
            &owner,
            "SELECT count(*) AS n FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE 'LISTEN%' \
               AND query LIKE '%caravan_shops%' AND query LIKE '%caravan_storefront%'",
        )
        .await;
        if listening >= 1 {
            // The cache resets itself right after its LISTEN returns.
            tokio::time::sleep(POLL).await;
            return;
        }
        assert!(Instant::now() < deadline, "the caches never listened");
        tokio::time::sleep(POLL).await;
    }
}

fn list_price(page: &Value) -> &Value {
    &page["items"][0]["variants"][0]["price"]["amount"]
}

fn page_price(product: &Value) -> &Value {
    &product["variants"][0]["price"]["amount"]
}

/// A shop with one active product, `goji`, at ¥68.00.
async fn shop_with_goji(app: &TestApp, sku: &str) -> (Shop, String, String) {
    let a = shop(app, "active", None).await;
    let product: Value = app
        .post_with(&a.owner, "/v1/products", &goji("goji", sku, 5))
        .await
        .json()
        .await
        .unwrap();
    let id = product["id"].as_str().unwrap().to_owned();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_owned();
    (a, id, variant)
}

async fn set_price(app: &TestApp, a: &Shop, product: &str, variant: &str, amount: i64) {
    let changed = app
        .patch_with(
            &a.owner,
            &format!("/v1/products/{product}/variants/{variant}"),
            &json!({"prices": [{"amount": amount, "currency": "CNY"}]}),
        )
        .await;
    assert_eq!(changed.status(), 200);
}

/// Changes the product's title behind the service's back: no trigger fires, so
/// only a held answer still shows the old title.
async fn retitle_unannounced(app: &TestApp, product: &str, title: &str) {
    owner(app)
        .await
        .execute_unprepared(&format!(
            "BEGIN; SET LOCAL session_replication_role = replica; \
             UPDATE products SET title = '{{\"zh-CN\": \"{title}\"}}' WHERE id = '{product}'; COMMIT;"
        ))
        .await
        .unwrap();
}

/// Fills the held list and page, then changes the title unannounced until both are
/// seen held: the product's creation is announced too, and its announcement may
/// arrive after the first fill and drop it. Answers the held list and page and the
/// title the database now has.
async fn held_answers(
    app: &TestApp,
    product: &str,
    list: &str,
    page: &str,
) -> (Value, Value, String) {
    for attempt in 0..20 {
        let (_, first) = get(app, list).await;
        let (_, first_page) = get(app, page).await;
        let title = format!("未宣布{attempt}");
        retitle_unannounced(app, product, &title).await;
        let (_, held) = get(app, list).await;
        let (_, held_page) = get(app, page).await;
        if held == first && held_page == first_page {
            return (first, first_page, title);
        }
        tokio::time::sleep(POLL).await;
    }
    panic!("the storefront never held {page}");
}

#[tokio::test]
async fn a_price_change_by_staff_reaches_the_held_list_and_page_within_a_second() {
    let app = spawn_app().await;
    wait_for_listeners(&app).await;
    let (a, product, variant) = shop_with_goji(&app, "G-1").await;
    let list = format!("/v1/shops/{}/products", a.slug);
    let page = format!("/v1/shops/{}/products/goji", a.slug);
    // Served from memory: a change no trigger announces does not show.
    let (first, first_page, title) = held_answers(&app, &product, &list, &page).await;
    assert_eq!(list_price(&first), 6800);
    assert_eq!(page_price(&first_page), 6800);
    // And a held answer still gives 304 for its tag.
    let etag = app
        .client
        .get(app.url(&page))
        .send()
        .await
        .unwrap()
        .headers()
        .get("etag")
        .unwrap()
        .clone();
    let not_modified = app
        .client
        .get(app.url(&page))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(not_modified.status(), 304);

    set_price(&app, &a, &product, &variant, 7200).await;
    let took = until(&app, &list, |_, body| list_price(body) == 7200).await;
    assert!(took < WITHIN, "the list took {took:?}");
    let took = until(&app, &page, |_, body| page_price(body) == 7200).await;
    assert!(took < WITHIN, "the page took {took:?}");
    let (_, fresh) = get(&app, &page).await;
    assert_eq!(
        fresh["title"],
        title.as_str(),
        "read again from the database"
    );
}

#[tokio::test]
async fn a_suspension_closes_the_held_storefront_within_a_second_and_a_reinstatement_reopens_it() {
    let app = spawn_app().await;
    wait_for_listeners(&app).await;
    let (a, _, _) = shop_with_goji(&app, "G-1").await;
    let list = format!("/v1/shops/{}/products", a.slug);
    let page = format!("/v1/shops/{}/products/goji", a.slug);
    for _ in 0..2 {
        assert_eq!(get(&app, &list).await.0, 200);
        assert_eq!(get(&app, &page).await.0, 200);
    }

    set_status(&app, &a, "suspended").await;
    let took = until(&app, &list, |status, _| status == 404).await;
    assert!(took < WITHIN, "the list took {took:?}");
    assert_eq!(get(&app, &page).await.0, 404);
    let refused = app
        .post_with(&a.owner, "/v1/products", &goji("other", "O-1", 1))
        .await;
    assert_eq!(refused.status(), 403);

    set_status(&app, &a, "active").await;
    let took = until(&app, &page, |status, body| {
        status == 200 && page_price(body) == 6800
    })
    .await;
    assert!(took < WITHIN, "the page took {took:?}");
    assert_eq!(get(&app, &list).await.0, 200);
}

#[tokio::test]
async fn two_shops_with_the_same_handle_each_see_only_their_own() {
    let app = spawn_app().await;
    wait_for_listeners(&app).await;
    let (a, _, _) = shop_with_goji(&app, "A-1").await;
    let (b, b_product, b_variant) = shop_with_goji(&app, "B-1").await;
    set_price(&app, &b, &b_product, &b_variant, 9900).await;
    for _ in 0..3 {
        for (shop, price) in [(&a, 6800), (&b, 9900)] {
            let (_, page) = get(&app, &format!("/v1/shops/{}/products/goji", shop.slug)).await;
            assert_eq!(page_price(&page), price, "{}", shop.slug);
            let (_, list) = get(&app, &format!("/v1/shops/{}/products", shop.slug)).await;
            assert_eq!(list["items"].as_array().unwrap().len(), 1);
            assert_eq!(list_price(&list), price, "{}", shop.slug);
        }
    }
    // A change in one shop leaves the other's answers as they were.
    set_price(&app, &b, &b_product, &b_variant, 9500).await;
    let b_page = format!("/v1/shops/{}/products/goji", b.slug);
    until(&app, &b_page, |_, body| page_price(body) == 9500).await;
    let (_, a_page) = get(&app, &format!("/v1/shops/{}/products/goji", a.slug)).await;
    assert_eq!(page_price(&a_page), 6800);
}

#[tokio::test]
async fn a_change_made_while_the_listeners_reconnect_still_shows_within_a_second() {
    let app = spawn_app().await;
    wait_for_listeners(&app).await;
    let (a, product, variant) = shop_with_goji(&app, "G-1").await;
    let page = format!("/v1/shops/{}/products/goji", a.slug);
    for _ in 0..2 {
        assert_eq!(page_price(&get(&app, &page).await.1), 6800);
    }

    let killed = caravan_shared::testing::count(
        &owner(&app).await,
        "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .await;
    assert!(killed >= 1, "killed {killed} listeners");
    set_price(&app, &a, &product, &variant, 7300).await;
    let took = until(&app, &page, |_, body| page_price(body) == 7300).await;
    assert!(took < WITHIN, "the page took {took:?}");

    // Listening again, the cache holds answers again and follows changes again.
    wait_for_listeners(&app).await;
    assert_eq!(page_price(&get(&app, &page).await.1), 7300);
    set_status(&app, &a, "suspended").await;
    let took = until(&app, &page, |status, _| status == 404).await;
    assert!(took < WITHIN, "the suspension took {took:?}");
}

/// Reserves `quantity` of `variant` for a new order, as checkout does.
async fn reserve(app: &TestApp, a: &Shop, variant: &str, quantity: i32) -> u16 {
    let request = json!({
        "tenant_id": a.id, "order_id": uuid::Uuid::now_v7(),
        "lines": [{"variant_id": variant, "quantity": quantity}]
    });
    let service = app.keys.service("order");
    app.post_with(&service, "/internal/v1/reservations", &request)
        .await
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_reservation_keeps_the_held_answers_until_it_sells_the_variant_out() {
    let app = spawn_app().await;
    wait_for_listeners(&app).await;
    let (a, product, variant) = shop_with_goji(&app, "G-1").await;
    let list = format!("/v1/shops/{}/products", a.slug);
    let page = format!("/v1/shops/{}/products/goji", a.slug);
    let (_, _, title) = held_answers(&app, &product, &list, &page).await;
    let in_stock = |body: &Value| body["variants"][0]["in_stock"].clone();

    // 5 on hand: a reservation of 4 leaves it in stock, which is all a buyer sees,
    // so the held answers stay (the unannounced title does not show).
    assert_eq!(reserve(&app, &a, &variant, 4).await, 201);
    tokio::time::sleep(WITHIN).await;
    let (_, held) = get(&app, &page).await;
    assert_ne!(
        held["title"],
        title.as_str(),
        "a stock change alone was announced"
    );
    assert_eq!(in_stock(&held), true);

    // The last one sells it out: announced, and shown within a second.
    assert_eq!(reserve(&app, &a, &variant, 1).await, 201);
    let took = until(&app, &page, |_, body| in_stock(body) == false).await;
    assert!(took < WITHIN, "the page took {took:?}");
    let (_, list_body) = get(&app, &list).await;
    assert_eq!(list_body["items"][0]["variants"][0]["in_stock"], false);
}
