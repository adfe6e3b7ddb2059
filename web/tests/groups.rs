//! The group deal pages against a stand-in for the public API: the real web tier
//! (sessions in Redis, the same-origin guard, the pages) with the API's answers
//! fixed, so what the pages make of them is checked without the whole platform.
//! Two shops: `apricot` has the forming group, `walnut` has none.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use caravan_shared::config::Source;
use caravan_web::startup::{WebSettings, build};
use redis::AsyncCommands;
use reqwest::redirect::Policy;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

const GROUP: &str = "0193c1d2-0000-7000-8000-00000000a001";
const DEAL: &str = "0193c1d0-1a2b-7c3d-8e4f-5a6b7c8d9e0f";
const VARIANT: &str = "0193a7c4-5b1e-7d2a-9f3c-1a2b3c4d5e6f";
const PRODUCT: &str = "0193a7c4-5a02-7c11-8e4b-6d7f8a9b0c1d";
const PUBLIC_URL: &str = "https://caravan.example.cn";

fn profile(slug: &str) -> Value {
    json!({
        "slug": slug, "name": slug, "base_currency": "CNY", "currencies": ["CNY"],
        "default_locale": "zh-CN", "locales": ["zh-CN", "en"], "logo_url": null,
        "contact_email": null, "contact_phone": null, "ship_to": ["CN"]
    })
}

fn deal() -> Value {
    json!({
        "id": DEAL, "variant_id": VARIANT, "product_id": PRODUCT, "handle": "dried-apricots",
        "product_title": {"zh-CN": "杏干", "en": "Dried apricots"}, "variant_title": {"en": "1 kg"},
        "image": null, "prices": [{"amount": 5900, "currency": "CNY"}],
        "regular_prices": [{"amount": 6800, "currency": "CNY"}], "group_size": 3,
        "open_hours": 24, "ends_at": "2099-01-01T00:00:00Z", "live": true, "units_left": 50
    })
}

fn group() -> Value {
    json!({
        "id": GROUP, "status": "forming", "group_size": 3, "joined": 1, "held": 1,
        "places_left": 2, "expires_at": "2099-01-01T00:00:00Z", "formed_at": null,
        "failed_at": null, "deal": deal()
    })
}

fn cart() -> Value {
    json!({
        "id": "0193ffff-0000-7000-8000-0000000000c1", "token": "cart-secret", "currency": "CNY",
        "locale": "en", "customer": false, "lines": [], "item_count": 1,
        "subtotal": {"amount": 6800, "currency": "CNY"}, "ready": true,
        "total_weight_grams": 1000, "shipping_options": null, "order_id": null
    })
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("application/problem+json")
        .json(json!({"code": "not_found", "title": "Not Found", "status": 404}))
}

/// The public API's answers the pages need: the shops' profiles, the group (only
/// in its own shop), and a cart to put the deal's variant in.
async fn stand_in_api(request: HttpRequest) -> HttpResponse {
    let path = request.path().to_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (request.method().as_str(), parts.as_slice()) {
        ("GET", ["healthz"]) => HttpResponse::Ok().finish(),
        ("GET", ["v1", "shops", slug @ ("apricot" | "walnut")]) => {
            HttpResponse::Ok().json(profile(slug))
        }
        ("GET", ["v1", "shops", "apricot", "groups", id]) if *id == GROUP => {
            HttpResponse::Ok().json(group())
        }
        ("GET", ["v1", "shops", "apricot", "group-deals"]) => {
            HttpResponse::Ok().json(json!({"items": [deal()]}))
        }
        ("GET", ["v1", "shops", _, "products", _]) => not_found(),
        ("POST", ["v1", "shops", "apricot", "carts"]) => HttpResponse::Created().json(cart()),
        ("POST", ["v1", "shops", "apricot", "carts", _, "lines"]) => {
            HttpResponse::Ok().json(cart())
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
    let prefix = format!("web-groups-test-{}", uuid::Uuid::new_v4());
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

    async fn post(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.browser
            .post(self.url(path))
            .header("cookie", cookie)
            .header("sec-fetch-site", "same-origin")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(form).expect("a form"))
            .send()
            .await
            .expect("the web tier answers")
    }
}

/// The dark squares of the page's QR drawing as a grey image, 4 pixels a unit.
fn raster(svg: &str) -> (Vec<u8>, usize) {
    let attribute = |name: &str| {
        svg.split(&format!(" {name}=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("an attribute of the drawing")
    };
    let side = attribute("width").parse::<usize>().expect("a width") * 4;
    let mut pixels = vec![255u8; side * side];
    for run in attribute("d").split('M').filter(|run| !run.is_empty()) {
        let n: Vec<usize> = run
            .split(|c: char| !c.is_ascii_digit())
            .filter(|part| !part.is_empty())
            .map(|part| part.parse().expect("a number"))
            .collect();
        for row in n[1] * 4..(n[1] + n[3]) * 4 {
            for column in n[0] * 4..(n[0] + n[2]) * 4 {
                pixels[row * side + column] = 0;
            }
        }
    }
    (pixels, side)
}

#[tokio::test]
async fn the_share_page_shows_the_group_with_a_qr_code_of_its_public_link() {
    let site = start().await;
    let answer = site
        .browser
        .get(site.url(&format!("/s/apricot/en/g/{GROUP}")))
        .send()
        .await
        .expect("the page");
    assert_eq!(answer.status(), 200);
    let html = answer.text().await.expect("a body");
    let document = scraper::Html::parse_document(&html);
    let one = |selector: &str| {
        let selector = scraper::Selector::parse(selector).expect("a selector");
        document
            .select(&selector)
            .next()
            .unwrap_or_else(|| panic!("no {selector:?} in the page"))
            .html()
    };
    let link = format!("{PUBLIC_URL}/s/apricot/en/g/{GROUP}");
    assert!(one("#share-link").contains(&format!("value=\"{link}\"")));
    assert!(one("h1").contains("Dried apricots"));
    assert!(one(".group-price").contains("CN¥59.00"));
    assert!(one(".group-price").contains("CN¥68.00"));
    assert!(one("[role=progressbar]").contains("aria-valuenow=\"1\""));
    assert!(html.contains("1 of 3 joined"));
    assert!(one("meta[property='og:url']").contains(&link));
    assert!(one("meta[property='og:description']").contains("CN¥59.00"));
    assert!(!html.contains("<script>"), "no inline script");

    let svg = one("svg.qr");
    let (pixels, side) = raster(&svg);
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| pixels[y * side + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, content) = grids[0].decode().expect("the QR code reads");
    assert_eq!(content, link);
}

#[tokio::test]
async fn another_shops_group_is_a_404_page() {
    let site = start().await;
    for path in [
        format!("/s/walnut/en/g/{GROUP}"),
        "/s/apricot/en/g/0193c1d2-0000-7000-8000-00000000dead".to_owned(),
        "/s/apricot/en/g/not-a-group".to_owned(),
    ] {
        let answer = site
            .browser
            .get(site.url(&path))
            .send()
            .await
            .expect("the page");
        assert_eq!(answer.status(), 404, "{path}");
        let html = answer.text().await.expect("a body");
        assert!(!html.contains("Dried apricots"), "{path}");
    }
}

#[tokio::test]
async fn group_forms_refuse_a_stale_secret_or_another_site_and_keep_the_cart_apart() {
    let mut site = start().await;
    let shop_cart = json!({"id": "0193ffff-0000-7000-8000-0000000000aa", "token": "own",
        "currency": "CNY", "count": 2});
    let cookie = site
        .session(&json!({"csrf": "the-secret", "carts": {"apricot": shop_cart}}))
        .await;
    let join = format!("/s/apricot/en/g/{GROUP}/join");
    let open = [
        ("deal_id", DEAL),
        ("product_id", PRODUCT),
        ("handle", "dried-apricots"),
    ];
    for (path, fields) in [
        (join.as_str(), vec![]),
        ("/s/apricot/en/g/open", open.to_vec()),
        ("/s/apricot/en/group-checkout", vec![]),
    ] {
        for csrf in ["", "a-stale-secret"] {
            let mut form = fields.clone();
            form.push(("csrf", csrf));
            let answer = site.post(path, &cookie, &form).await;
            assert_eq!(answer.status(), 403, "{path} with {csrf:?}");
        }
        // From another site, even with the secret: refused before the page runs.
        let mut form = fields.clone();
        form.push(("csrf", "the-secret"));
        let answer = site
            .browser
            .post(site.url(path))
            .header("cookie", &cookie)
            .header("sec-fetch-site", "cross-site")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(serde_urlencoded::to_string(&form).expect("a form"))
            .send()
            .await
            .expect("an answer");
        assert_eq!(answer.status(), 403, "{path} from another site");
    }

    let answer = site.post(&join, &cookie, &[("csrf", "the-secret")]).await;
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"],
        "/s/apricot/en/group-checkout",
        "joining leads to the group checkout"
    );
    let session = site.session_body(&cookie).await;
    assert_eq!(
        session["carts"]["apricot"], shop_cart,
        "the shop's cart is untouched"
    );
    let group_cart = &session["group_carts"]["apricot"];
    assert_eq!(group_cart["group_id"], GROUP);
    assert_eq!(group_cart["deal_id"], DEAL);
    assert_eq!(
        group_cart["cart"]["id"],
        "0193ffff-0000-7000-8000-0000000000c1"
    );
    let key = site.key(cookie.trim_start_matches("caravan_session="));
    let _: () = site.redis.del(key).await.expect("session removed");
}
