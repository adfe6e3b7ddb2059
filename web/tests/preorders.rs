//! The harvest pre-order pages against a stand-in for the public API: the real web
//! tier (sessions in Redis, the same-origin guard, the pages) with the API's
//! answers fixed. The shop `apricot` has a product with an open campaign and a
//! pre-order whose harvest is in; its staff see their own campaign and get a 404
//! for another shop's, as the API answers them.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use caravan_shared::config::Source;
use caravan_web::startup::{WebSettings, build};
use redis::AsyncCommands;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const CAMPAIGN: &str = "0193c2e0-1a2b-7c3d-8e4f-5a6b7c8d9e0f";
const OTHER_CAMPAIGN: &str = "0193c2e0-1a2b-7c3d-8e4f-00000000beef";
const VARIANT: &str = "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f";
const PRODUCT: &str = "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d";
const ORDER: &str = "0193d000-0000-7000-8000-0000000000e1";
/// The token of the balance-payment email (the order's own is another).
const BALANCE_TOKEN: &str = "balance-token_0123456789abcdefghijklmnopqrstuv";
const STAFF_TOKEN: &str = "apricot-staff-access-token";
const PUBLIC_URL: &str = "https://caravan.example.cn";

fn profile(slug: &str) -> Value {
    json!({
        "slug": slug, "name": slug, "base_currency": "CNY", "currencies": ["CNY"],
        "default_locale": "zh-CN", "locales": ["zh-CN", "en"], "logo_url": null,
        "contact_email": null, "contact_phone": null, "ship_to": ["CN"]
    })
}

fn product() -> Value {
    json!({
        "id": PRODUCT, "handle": "hami-melon", "locale": "en", "title": "Hami melon",
        "description": null, "images": [], "origin": {}, "producer": null,
        "harvest_months": [7, 8], "storage": null, "shelf_life_days": null,
        "certifications": [],
        "variants": [{"id": VARIANT, "sku": "HAMI-2PC", "title": "Two-pack",
            "price": {"amount": 12800, "currency": "CNY"}, "compare_at_price": null,
            "in_stock": false, "unit": "box", "weight_grams": 4000}]
    })
}

fn public_campaign() -> Value {
    json!({
        "id": CAMPAIGN, "variant_id": VARIANT, "product_id": PRODUCT, "handle": "hami-melon",
        "product_title": {"en": "Hami melon"}, "variant_title": {"en": "Two-pack"}, "image": null,
        "prices": [{"amount": 12800, "currency": "CNY"}],
        "deposits": [{"amount": 3000, "currency": "CNY"}], "ships_from": "2027-07-20",
        "units_left": 288, "balance_days": 7, "deposit_policy": "forfeit"
    })
}

fn campaign() -> Value {
    json!({
        "id": CAMPAIGN, "variant_id": VARIANT, "product_id": PRODUCT, "handle": "hami-melon",
        "sku": "HAMI-2PC", "product_title": {"en": "Hami melon"}, "variant_title": {"en": "Two-pack"},
        "prices": [{"amount": 12800, "currency": "CNY"}],
        "deposits": [{"amount": 3000, "currency": "CNY"}], "allocation": 500, "sold": 212,
        "paid": 40, "shipped": 0, "ships_from": "2027-07-20", "balance_days": 7,
        "deposit_policy": "forfeit", "status": "open", "ends_at": null, "harvested_at": null,
        "balance_due_at": null, "called_off_at": null, "call_off_reason": null,
        "created_at": "2026-12-01T08:00:00Z"
    })
}

/// A pre-order with its deposit paid and its harvest announced: its balance is due.
fn order(status: &str) -> Value {
    let money = |amount: i64| json!({"amount": amount, "currency": "CNY"});
    json!({
        "id": ORDER, "number": 1042, "name": "#1042", "status": status, "access_token": null,
        "email": "buyer@example.cn", "phone": "13899123456", "locale": "en", "currency": "CNY",
        "lines": [{"title": "Hami melon", "variant_title": "Two-pack", "sku": "HAMI-2PC",
            "quantity": 1, "unit_price": money(12800), "line_total": money(12800)}],
        "subtotal": money(12800), "shipping": money(1200), "total": money(14000),
        "paid": money(if status == "paid" { 14000 } else { 3000 }), "refunded": money(0),
        "shipping_address": {"recipient": "王芳", "street": "解放南路 88 号", "city": "乌鲁木齐市",
            "province": "新疆维吾尔自治区", "country": "CN"},
        "shipping_rate": {"name": "顺丰", "zone": "西北"}, "note": null,
        "payment_provider": "test", "payments": [], "fulfillments": [],
        "created_at": "2026-12-01T08:00:00Z", "paid_at": null, "cancelled_at": null,
        "expires_at": "2026-12-01T09:00:00Z",
        "preorder": {"campaign_id": CAMPAIGN, "ships_from": "2027-07-20",
            "deposit": money(3000), "balance": money(if status == "paid" { 0 } else { 11000 }),
            "balance_due_at": "2099-07-27T08:00:00Z", "harvested": true, "called_off": false,
            "deposit_policy": "forfeit"}
    })
}

fn cart() -> Value {
    json!({
        "id": "0193ffff-0000-7000-8000-0000000000c1", "token": "cart-secret", "currency": "CNY",
        "locale": "en", "customer": false, "lines": [], "item_count": 1,
        "subtotal": {"amount": 12800, "currency": "CNY"}, "ready": false,
        "total_weight_grams": 4000, "shipping_options": null, "order_id": null
    })
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("application/problem+json")
        .json(json!({"code": "not_found", "title": "Not Found", "status": 404}))
}

fn header<'a>(request: &'a HttpRequest, name: &str) -> &'a str {
    request
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The public API's answers the pages need. The order opens with the balance
/// email's token only; the campaigns are those of `apricot`'s staff token.
async fn stand_in_api(request: HttpRequest) -> HttpResponse {
    let path = request.path().to_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let staff = header(&request, "authorization") == format!("Bearer {STAFF_TOKEN}");
    let balance = header(&request, "x-order-token") == BALANCE_TOKEN;
    match (request.method().as_str(), parts.as_slice()) {
        ("GET", ["healthz"]) => HttpResponse::Ok().finish(),
        ("GET", ["v1", "shops", slug @ ("apricot" | "walnut")]) => {
            HttpResponse::Ok().json(profile(slug))
        }
        ("GET", ["v1", "shops", "apricot", "products", "hami-melon"]) => {
            HttpResponse::Ok().json(product())
        }
        ("GET", ["v1", "shops", "apricot", "preorder-campaigns"]) => {
            HttpResponse::Ok().json(json!({"items": [public_campaign()]}))
        }
        ("GET", ["v1", "shops", _, "group-deals"]) => HttpResponse::Ok().json(json!({"items": []})),
        ("GET", ["v1", "shops", "apricot", "orders", id]) if *id == ORDER && balance => {
            HttpResponse::Ok().json(order("preordered"))
        }
        ("POST", ["v1", "shops", "apricot", "orders", id, "payments"])
            if *id == ORDER && balance =>
        {
            HttpResponse::Ok().json(order("paid"))
        }
        ("POST", ["v1", "shops", "apricot", "carts"]) => HttpResponse::Created().json(cart()),
        ("POST", ["v1", "shops", "apricot", "carts", _, "lines"]) => {
            HttpResponse::Ok().json(cart())
        }
        ("GET", ["v1", "orders", id]) if *id == ORDER && staff => {
            let mut order = order("preordered");
            order["lines"] = json!([]);
            HttpResponse::Ok().json(order)
        }
        ("GET", ["v1", "preorder-campaigns", id]) if *id == CAMPAIGN && staff => {
            HttpResponse::Ok().json(campaign())
        }
        ("GET", ["v1", "preorder-campaigns", id, "orders"]) if *id == CAMPAIGN && staff => {
            HttpResponse::Ok().json(json!({"items": []}))
        }
        _ => not_found(),
    }
}

struct Env(HashMap<&'static str, String>);

impl Source for Env {
    fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).cloned()
    }
}

struct Site {
    base: String,
    redis: redis::aio::MultiplexedConnection,
    prefix: String,
    browser: reqwest::Client,
}

async fn start() -> Site {
    let api = HttpServer::new(|| App::new().default_service(web::to(stand_in_api)))
        .workers(1)
        .bind("127.0.0.1:0")
        .expect("a port for the API's stand-in");
    let api_port = api.addrs()[0].port();
    tokio::spawn(api.run());
    let prefix = format!("web-preorders-test-{}", uuid::Uuid::new_v4());
    let redis_url = caravan_shared::testing::redis_url();
    let env = Env(HashMap::from([
        ("BIND", "127.0.0.1:0".to_owned()),
        ("API_URL", format!("http://127.0.0.1:{api_port}")),
        ("PUBLIC_URL", PUBLIC_URL.to_owned()),
        ("REDIS_URL", redis_url.clone()),
        ("REDIS_PREFIX", prefix.clone()),
    ]));
    let settings = WebSettings::from_source(&env).expect("settings");
    let running = build(settings).expect("the web tier starts");
    tokio::spawn(running.server);
    let redis = redis::Client::open(redis_url)
        .expect("a Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis answers");
    Site {
        base: format!("http://127.0.0.1:{}", running.port),
        redis,
        prefix,
        browser: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .expect("a client"),
    }
}

impl Site {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn key(&self, session: &str) -> String {
        let digest: String = Sha256::digest(session.as_bytes())
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        format!("{}:web:session:{digest}", self.prefix)
    }

    /// A session holding `body`, as the web tier stores one; answers its cookie.
    async fn session(&mut self, body: &Value) -> String {
        let id = format!("{:0<43}", uuid::Uuid::new_v4().simple().to_string());
        let _: () = self
            .redis
            .set_ex(self.key(&id), body.to_string(), 600)
            .await
            .expect("session stored");
        format!("caravan_session={id}")
    }

    async fn session_body(&mut self, cookie: &str) -> Value {
        let id = cookie.trim_start_matches("caravan_session=");
        let raw: String = self.redis.get(self.key(id)).await.expect("session kept");
        serde_json::from_str(&raw).expect("session JSON")
    }

    /// A session of `apricot`'s staff member, signed in to the admin.
    async fn staff_session(&mut self) -> String {
        let expires_at = chrono::Utc::now().timestamp() + 3600;
        self.session(&json!({
            "csrf": "the-secret",
            "staff": {
                "account": {"email": "owner@apricot.example.cn", "name": "Owner",
                    "access_token": STAFF_TOKEN, "refresh_token": "refresh", "expires_at": expires_at},
                "shop_id": "0193ffff-0000-7000-8000-00000000a1a1", "shop": "apricot",
                "shop_name": "Apricot", "role": "owner", "lang": "en"
            }
        }))
        .await
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut request = self.browser.get(self.url(path));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("the web tier answers")
    }

    async fn post(
        &self,
        path: &str,
        cookie: Option<&str>,
        site: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .browser
            .post(self.url(path))
            .header("sec-fetch-site", site)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).expect("a form"));
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await.expect("the web tier answers")
    }
}

fn select(html: &str, selector: &str) -> Vec<String> {
    let document = scraper::Html::parse_document(html);
    let selector = scraper::Selector::parse(selector).expect("a selector");
    document.select(&selector).map(|node| node.html()).collect()
}

#[tokio::test]
async fn a_product_with_an_open_harvest_offers_a_preorder_with_its_deposit() {
    let site = start().await;
    let answer = site.get("/s/apricot/en/p/hami-melon", None).await;
    assert_eq!(answer.status(), 200);
    let html = answer.text().await.expect("a body");
    let boxes = select(&html, "section.preorder");
    assert_eq!(boxes.len(), 1, "one pre-order box");
    let preorder = &boxes[0];
    assert!(preorder.contains("Pre-order the new harvest"), "{preorder}");
    assert!(
        preorder.contains("Ships from <bdi>2027-07-20</bdi>"),
        "{preorder}"
    );
    assert!(preorder.contains("<bdi>CN¥128.00</bdi>"), "{preorder}");
    assert!(
        preorder.contains("Deposit <bdi>CN¥30.00</bdi> now, the balance of <bdi>CN¥98.00</bdi>"),
        "{preorder}"
    );
    assert!(
        preorder.contains("<bdi>288</bdi> left to pre-order"),
        "{preorder}"
    );
    assert!(preorder.contains("7 days to pay the balance"), "{preorder}");
    assert!(preorder.contains("keeps the deposit"), "{preorder}");
    assert!(
        preorder.contains("action=\"/s/apricot/en/preorder\""),
        "{preorder}"
    );
    assert!(
        preorder.contains(&format!("value=\"{CAMPAIGN}\"")),
        "{preorder}"
    );
    // The variant has no stock: it cannot go in the cart, only be pre-ordered.
    assert!(!html.contains(">Add to cart<"));
    assert!(
        html.contains("\"availability\":\"https://schema.org/PreOrder\""),
        "search engines are told it is a pre-order"
    );
    assert!(!html.contains("<script>"), "no inline script");

    let refused = site
        .get(
            "/s/apricot/en/p/hami-melon?problem=allocation_sold_out",
            None,
        )
        .await
        .text()
        .await
        .expect("a body");
    assert!(refused.contains("Every unit of this harvest has been pre-ordered."));
}

#[tokio::test]
async fn the_balance_emails_link_opens_the_order_and_pays_the_balance() {
    let site = start().await;
    // A browser that never saw the order: the link's token alone opens it.
    let path = format!("/s/apricot/en/orders/{ORDER}?token={BALANCE_TOKEN}");
    let answer = site.get(&path, None).await;
    assert_eq!(answer.status(), 200);
    let html = answer.text().await.expect("a body");
    assert!(
        html.contains("Pay the balance <bdi>CN¥110.00</bdi> by <bdi>2099-07-27 16:00</bdi>"),
        "{html}"
    );
    assert!(html.contains("Pay balance CN¥110.00"), "{html}");
    let token_fields = select(&html, "form.card-form input[name=token]");
    assert_eq!(token_fields.len(), 1);
    assert!(token_fields[0].contains(&format!("value=\"{BALANCE_TOKEN}\"")));
    // The balance is paid by card: no bank transfer to choose.
    assert!(select(&html, "input[name=method][value=manual]").is_empty());

    let paid = site
        .post(
            &format!("/s/apricot/en/orders/{ORDER}/pay"),
            None,
            "same-origin",
            &[
                ("method", "card"),
                ("card_number", "4242 4242 4242 4242"),
                ("token", BALANCE_TOKEN),
                ("csrf", ""),
            ],
        )
        .await;
    assert_eq!(paid.status(), 303);
    assert_eq!(
        paid.headers()["location"],
        format!("/s/apricot/en/orders/{ORDER}?token={BALANCE_TOKEN}&outcome=paid").as_str()
    );

    // Without the token (or with the order's other secrets unknown) it stays closed.
    let closed = site
        .get(&format!("/s/apricot/en/orders/{ORDER}"), None)
        .await;
    assert_eq!(closed.status(), 404);
}

#[tokio::test]
async fn preorder_forms_refuse_a_stale_secret_or_another_site_and_keep_the_cart_apart() {
    let mut site = start().await;
    let shop_cart = json!({"id": "0193ffff-0000-7000-8000-0000000000aa", "token": "own",
        "currency": "CNY", "count": 2});
    let cookie = site
        .session(&json!({"csrf": "the-secret", "carts": {"apricot": shop_cart}}))
        .await;
    let preorder = [
        ("campaign_id", CAMPAIGN),
        ("product_id", PRODUCT),
        ("handle", "hami-melon"),
    ];
    for (path, fields) in [
        ("/s/apricot/en/preorder", preorder.to_vec()),
        ("/s/apricot/en/preorder-checkout", vec![]),
    ] {
        for csrf in ["", "a-stale-secret"] {
            let mut form = fields.clone();
            form.push(("csrf", csrf));
            let answer = site.post(path, Some(&cookie), "same-origin", &form).await;
            assert_eq!(answer.status(), 403, "{path} with {csrf:?}");
        }
        let mut form = fields.clone();
        form.push(("csrf", "the-secret"));
        let answer = site.post(path, Some(&cookie), "cross-site", &form).await;
        assert_eq!(answer.status(), 403, "{path} from another site");
    }

    let mut form = preorder.to_vec();
    form.push(("csrf", "the-secret"));
    let answer = site
        .post(
            "/s/apricot/en/preorder",
            Some(&cookie),
            "same-origin",
            &form,
        )
        .await;
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"],
        "/s/apricot/en/preorder-checkout",
        "pre-ordering leads to the pre-order checkout"
    );
    let session = site.session_body(&cookie).await;
    assert_eq!(
        session["carts"]["apricot"], shop_cart,
        "the shop's cart is untouched"
    );
    let held = &session["preorder_carts"]["apricot"];
    assert_eq!(held["campaign_id"], CAMPAIGN);
    assert_eq!(held["cart"]["id"], "0193ffff-0000-7000-8000-0000000000c1");

    // A campaign that is not open (or not this product's) sends the buyer back.
    let mut form = vec![
        ("campaign_id", OTHER_CAMPAIGN),
        ("product_id", PRODUCT),
        ("handle", "hami-melon"),
    ];
    form.push(("csrf", "the-secret"));
    let answer = site
        .post(
            "/s/apricot/en/preorder",
            Some(&cookie),
            "same-origin",
            &form,
        )
        .await;
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"],
        "/s/apricot/en/p/hami-melon?problem=campaign_closed#preorder"
    );
    let key = site.key(cookie.trim_start_matches("caravan_session="));
    let _: () = site.redis.del(key).await.expect("session removed");
}

#[tokio::test]
async fn staff_see_their_campaign_and_another_shops_is_a_404_page() {
    let mut site = start().await;
    let cookie = site.staff_session().await;
    let answer = site
        .get(&format!("/admin/preorders/{CAMPAIGN}"), Some(&cookie))
        .await;
    assert_eq!(answer.status(), 200);
    let html = answer.text().await.expect("a body");
    assert!(html.contains("Hami melon · Two-pack"));
    assert!(html.contains(&format!("href=\"/admin/preorders/{CAMPAIGN}/harvest\"")));
    assert!(html.contains(&format!("href=\"/admin/preorders/{CAMPAIGN}/call-off\"")));

    for path in [
        format!("/admin/preorders/{OTHER_CAMPAIGN}"),
        format!("/admin/preorders/{OTHER_CAMPAIGN}/harvest"),
        format!("/admin/preorders/{OTHER_CAMPAIGN}/call-off"),
        format!("/admin/preorders/{CAMPAIGN}/burn"),
        "/admin/preorders/not-a-campaign".to_owned(),
    ] {
        let answer = site.get(&path, Some(&cookie)).await;
        assert_eq!(answer.status(), 404, "{path}");
        let html = answer.text().await.expect("a body");
        assert!(!html.contains("Hami melon"), "{path}");
    }

    // The confirmation says what calling off does and asks why.
    let confirm = site
        .get(
            &format!("/admin/preorders/{CAMPAIGN}/call-off"),
            Some(&cookie),
        )
        .await
        .text()
        .await
        .expect("a body");
    assert!(confirm.contains("Every pre-order (212 units) will be cancelled and refunded in full"));
    assert_eq!(select(&confirm, "input[name=reason][required]").len(), 1);
}

#[tokio::test]
async fn a_preorders_admin_page_names_its_harvest_and_takes_the_balance_by_transfer() {
    let mut site = start().await;
    let cookie = site.staff_session().await;
    let answer = site
        .get(&format!("/admin/orders/{ORDER}"), Some(&cookie))
        .await;
    assert_eq!(answer.status(), 200);
    let html = answer.text().await.expect("a body");
    let link = select(&html, &format!("a[href='/admin/preorders/{CAMPAIGN}']"));
    assert_eq!(link.len(), 1, "{html}");
    assert!(
        link[0].contains("Harvest pre-order: ships from 2027-07-20 · balance due CN¥110.00"),
        "{}",
        link[0]
    );
    assert!(html.contains("Pre-ordered"));
    assert_eq!(
        select(
            &html,
            &format!("form[action='/admin/orders/{ORDER}/mark-paid']")
        )
        .len(),
        1,
        "the balance can be marked paid once the harvest is in"
    );
}

#[tokio::test]
async fn admin_preorder_forms_refuse_a_stale_secret_or_another_site() {
    let mut site = start().await;
    let cookie = site.staff_session().await;
    for path in [
        "/admin/preorders".to_owned(),
        format!("/admin/preorders/{CAMPAIGN}/harvest"),
        format!("/admin/preorders/{CAMPAIGN}/call-off"),
    ] {
        for csrf in ["", "a-stale-secret"] {
            let form = [("csrf", csrf), ("reason", "hail")];
            let answer = site.post(&path, Some(&cookie), "same-origin", &form).await;
            assert_eq!(answer.status(), 403, "{path} with {csrf:?}");
        }
        let form = [("csrf", "the-secret"), ("reason", "hail")];
        let answer = site.post(&path, Some(&cookie), "cross-site", &form).await;
        assert_eq!(answer.status(), 403, "{path} from another site");
    }
    // Calling off without a reason is answered with the form again, not sent.
    let answer = site
        .post(
            &format!("/admin/preorders/{CAMPAIGN}/call-off"),
            Some(&cookie),
            "same-origin",
            &[("csrf", "the-secret"), ("reason", "  ")],
        )
        .await;
    assert_eq!(answer.status(), 422);
    let html = answer.text().await.expect("a body");
    assert!(html.contains("Say why the harvest is called off"));
}
