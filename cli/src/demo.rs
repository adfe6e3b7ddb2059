//! Demo data, created through the public API as the people using Caravan would:
//! three cooperatives with their owners and staff, categories, produce with
//! translations and prices, stock, shipping zones, a group deal and a harvest on
//! pre-order each, and orders in several states.

use crate::api::Api;
use crate::mailbox;
use anyhow::Context;
use reqwest::Method;
use serde_json::json;

struct Product {
    handle: &'static str,
    category: &'static str,
    title: [&'static str; 3],
    description: [&'static str; 2],
    variant: [&'static str; 2],
    unit: &'static str,
    grams: i32,
    /// CNY, then USD and KZT when the shop sells in them (minor units).
    prices: [i64; 3],
    stock: i32,
    storage: &'static str,
    place: &'static str,
}

struct Cooperative {
    slug: &'static str,
    name: &'static str,
    region: &'static str,
    description: [&'static str; 3],
    currencies: &'static [&'static str],
    categories: &'static [(&'static str, [&'static str; 3])],
    products: &'static [Product],
    cross_border: bool,
}

const COOPERATIVES: &[Cooperative] = &[
    Cooperative {
        slug: "zhongning-goji",
        name: "宁夏中宁枸杞合作社",
        region: "Ningxia",
        description: [
            "宁夏中宁县 120 户社员种植的头茬枸杞，自然晾晒。",
            "First-harvest goji berries from 120 member farms in Zhongning, Ningxia, sun-dried.",
            "نىڭشيا جۇڭنىڭ ناھىيىسىدىكى 120 دېھقان ئائىلىسىنىڭ لەڭزىسى.",
        ],
        currencies: &["CNY"],
        categories: &[("goji", ["枸杞", "Goji berries", "لەڭزە"])],
        products: &[
            Product {
                handle: "first-harvest-goji",
                category: "goji",
                title: [
                    "中宁头茬红枸杞",
                    "First-harvest red goji",
                    "بىرىنچى ھوسۇل قىزىل لەڭزە",
                ],
                description: [
                    "六月采摘，颗粒饱满，无添加。",
                    "Picked in June, plump, nothing added.",
                ],
                variant: ["500克礼盒", "500 g gift box"],
                unit: "box",
                grams: 560,
                prices: [6800, 0, 0],
                stock: 300,
                storage: "ambient",
                place: "Zhongning",
            },
            Product {
                handle: "black-goji",
                category: "goji",
                title: ["野生黑枸杞", "Wild black goji", "قارا لەڭزە"],
                description: [
                    "柴达木边缘的野生黑果枸杞。",
                    "Wild black wolfberries from the edge of the Qaidam.",
                ],
                variant: ["250克", "250 g"],
                unit: "box",
                grams: 300,
                prices: [9800, 0, 0],
                stock: 120,
                storage: "ambient",
                place: "Zhongning",
            },
        ],
        cross_border: false,
    },
    Cooperative {
        slug: "turpan-raisins",
        name: "吐鲁番葡萄干与哈密瓜合作社",
        region: "Xinjiang",
        description: [
            "火焰山下的晾房葡萄干与哈密瓜，直发全国与中亚。",
            "Shade-dried raisins and Hami melons from below the Flaming Mountains, shipped across China and Central Asia.",
            "ئوتلۇق تاغ ئاستىدىكى ئۈزۈم قېقى ۋە قوغۇن.",
        ],
        currencies: &["CNY", "USD", "KZT"],
        categories: &[
            ("raisins", ["葡萄干", "Raisins", "ئۈزۈم قېقى"]),
            ("melons", ["哈密瓜", "Hami melons", "قوغۇن"]),
        ],
        products: &[
            Product {
                handle: "green-raisins",
                category: "raisins",
                title: [
                    "吐鲁番绿香妃葡萄干",
                    "Turpan green raisins",
                    "تۇرپان يېشىل ئۈزۈم قېقى",
                ],
                description: [
                    "晾房自然风干四十天。",
                    "Air-dried for forty days in traditional drying houses.",
                ],
                variant: ["500克", "500 g"],
                unit: "box",
                grams: 530,
                prices: [4500, 650, 320000],
                stock: 500,
                storage: "ambient",
                place: "Turpan",
            },
            Product {
                handle: "hami-melon",
                category: "melons",
                title: [
                    "哈密瓜（两只装）",
                    "Hami melons, pair",
                    "قوغۇن (ئىككى دانە)",
                ],
                description: [
                    "西州蜜 25 号，冷链发货。",
                    "Xizhoumi No. 25, shipped chilled.",
                ],
                variant: ["约4公斤", "about 4 kg"],
                unit: "box",
                grams: 4200,
                prices: [8800, 1250, 620000],
                stock: 80,
                storage: "chilled",
                place: "Hami",
            },
        ],
        cross_border: true,
    },
    Cooperative {
        slug: "hotan-jujube",
        name: "和田大枣核桃合作社",
        region: "Xinjiang",
        description: [
            "昆仑山下和田绿洲的骏枣与薄皮核桃。",
            "Jun jujubes and thin-shell walnuts from the Hotan oasis below the Kunlun.",
            "خوتەن بوستانلىقىدىكى چىلان ۋە ياڭاق.",
        ],
        currencies: &["CNY"],
        categories: &[(
            "nuts-and-dates",
            ["枣与坚果", "Dates and nuts", "چىلان ۋە ياڭاق"],
        )],
        products: &[
            Product {
                handle: "hotan-jun-jujube",
                category: "nuts-and-dates",
                title: ["和田骏枣", "Hotan Jun jujubes", "خوتەن چىلىنى"],
                description: [
                    "一级骏枣，肉厚核小。",
                    "Grade-one Jun jujubes, thick flesh, small stone.",
                ],
                variant: ["1公斤", "1 kg"],
                unit: "kg",
                grams: 1050,
                prices: [7900, 0, 0],
                stock: 200,
                storage: "ambient",
                place: "Hotan",
            },
            Product {
                handle: "thin-shell-walnuts",
                category: "nuts-and-dates",
                title: [
                    "和田薄皮核桃",
                    "Hotan thin-shell walnuts",
                    "خوتەن نېپىز پوستلۇق ياڭىقى",
                ],
                description: [
                    "手捏即开，当年新货。",
                    "Crack by hand; this year's harvest.",
                ],
                variant: ["1公斤", "1 kg"],
                unit: "kg",
                grams: 1050,
                prices: [5900, 0, 0],
                stock: 150,
                storage: "ambient",
                place: "Hotan",
            },
        ],
        cross_border: false,
    },
];

/// The demo accounts, for printing: (what, email).
pub fn logins(operator: &str) -> Vec<(String, String)> {
    let mut logins = vec![("platform operator".to_owned(), operator.to_owned())];
    for coop in COOPERATIVES {
        logins.push((format!("owner of {}", coop.slug), owner_email(coop.slug)));
        logins.push((format!("staff of {}", coop.slug), staff_email(coop.slug)));
    }
    logins
}

fn owner_email(slug: &str) -> String {
    format!("owner@{slug}.example.cn")
}

fn staff_email(slug: &str) -> String {
    format!("staff@{slug}.example.cn")
}

/// Whether the platform has no shops yet.
pub async fn is_empty(api: &Api, operator: &str) -> anyhow::Result<bool> {
    let tenants = api.get("/v1/tenants?limit=1", Some(operator)).await?;
    Ok(tenants["items"].as_array().is_none_or(Vec::is_empty))
}

/// Accepts the newest invitation to `email`; answers the new member's token.
async fn accept_invitation(
    api: &Api,
    maildev: &str,
    email: &str,
    seen: usize,
    password: &str,
) -> anyhow::Result<String> {
    let token = mailbox::token_for(maildev, email, seen).await?;
    let accepted = api
        .post(
            "/v1/auth/invitations/accept",
            None,
            &json!({"token": token, "password": password, "display_name": email.split('@').next().unwrap_or(email)}),
        )
        .await?;
    accepted["access_token"]
        .as_str()
        .map(str::to_owned)
        .context("no token after accepting the invitation")
}

/// Creates the demo data; every demo account gets `password`.
pub async fn seed(api: &Api, maildev: &str, operator: &str, password: &str) -> anyhow::Result<()> {
    for coop in COOPERATIVES {
        seed_cooperative(api, maildev, operator, coop, password)
            .await
            .with_context(|| format!("demo cooperative {}", coop.slug))?;
    }
    Ok(())
}

async fn seed_cooperative(
    api: &Api,
    maildev: &str,
    operator: &str,
    coop: &Cooperative,
    password: &str,
) -> anyhow::Result<()> {
    let owner_email = owner_email(coop.slug);
    let seen = mailbox::messages_to(maildev, &owner_email).await?.len();
    let tenant = api
        .post(
            "/v1/tenants",
            Some(operator),
            &json!({"name": coop.name, "slug": coop.slug, "owner_email": owner_email, "plan": "standard", "region": coop.region}),
        )
        .await?;
    let tenant_id = tenant["id"].as_str().context("tenant id")?.to_owned();
    let owner = accept_invitation(api, maildev, &owner_email, seen, password).await?;
    let owner = api
        .login(&owner_email, password, Some(coop.slug))
        .await
        .unwrap_or(owner);
    api.call(
        Method::PATCH,
        &format!("/v1/tenants/{tenant_id}"),
        Some(&owner),
        Some(&json!({
            "description": {"zh-CN": coop.description[0], "en": coop.description[1], "ug": coop.description[2]},
            "base_currency": "CNY", "currencies": coop.currencies,
            "default_locale": "zh-CN", "locales": ["zh-CN", "en", "ug"],
            "timezone": "Asia/Urumqi",
            "contact_email": format!("shop@{}.example.cn", coop.slug),
            "ship_to": if coop.cross_border { json!(["CN", "KZ", "UZ"]) } else { json!(["CN"]) },
        })),
    )
    .await?;

    // Staff.
    let staff = staff_email(coop.slug);
    let seen = mailbox::messages_to(maildev, &staff).await?.len();
    api.post(
        "/v1/auth/invitations",
        Some(&owner),
        &json!({"email": staff, "role": "staff"}),
    )
    .await?;
    accept_invitation(api, maildev, &staff, seen, password).await?;

    // Categories and products.
    let mut categories = std::collections::HashMap::new();
    for (position, (handle, name)) in coop.categories.iter().enumerate() {
        let created = api
            .post(
                "/v1/categories",
                Some(&owner),
                &json!({"handle": handle, "name": {"zh-CN": name[0], "en": name[1], "ug": name[2]}, "position": position}),
            )
            .await?;
        categories.insert(*handle, created["id"].clone());
    }
    let mut variants = Vec::new();
    for product in coop.products {
        let mut prices = vec![json!({"amount": product.prices[0], "currency": "CNY"})];
        if coop.currencies.contains(&"USD") {
            prices.push(json!({"amount": product.prices[1], "currency": "USD"}));
            prices.push(json!({"amount": product.prices[2], "currency": "KZT"}));
        }
        let created = api
            .post(
                "/v1/products",
                Some(&owner),
                &json!({
                    "handle": product.handle, "status": "active",
                    "title": {"zh-CN": product.title[0], "en": product.title[1], "ug": product.title[2]},
                    "description": {"zh-CN": product.description[0], "en": product.description[1]},
                    "category_ids": [categories.get(product.category)],
                    "origin": {"country": "CN", "province": coop.region, "place": product.place},
                    "storage": product.storage,
                    "variants": [{
                        "sku": format!("{}-{}", coop.slug, product.handle).to_uppercase(),
                        "title": {"zh-CN": product.variant[0], "en": product.variant[1]},
                        "unit": product.unit, "weight_grams": product.grams,
                        "prices": prices, "stock": product.stock, "low_stock_threshold": 10
                    }]
                }),
            )
            .await?;
        variants.push(
            created["variants"][0]["id"]
                .as_str()
                .context("variant id")?
                .to_owned(),
        );
    }

    // Shipping: the mainland, and for one cooperative Central Asia too.
    api.post(
        "/v1/shipping-zones",
        Some(&owner),
        &json!({
            "name": "中国大陆 Mainland China", "countries": ["CN"],
            "free_shipping_threshold": {"amount": 19900, "currency": "CNY"},
            "rates": [
                {"name": "顺丰 SF Express ≤ 2 kg", "min_weight_grams": 0, "max_weight_grams": 2000, "price": {"amount": 1200, "currency": "CNY"}},
                {"name": "顺丰 SF Express > 2 kg", "min_weight_grams": 2000, "price": {"amount": 2500, "currency": "CNY"}}
            ]
        }),
    )
    .await?;
    if coop.cross_border {
        // A zone prices in one currency: the same route once per currency the
        // cooperative sells in, so a cart in tenge or dollars ships too.
        for price in [
            json!({"amount": 6800, "currency": "CNY"}),
            json!({"amount": 470_000, "currency": "KZT"}),
            json!({"amount": 950, "currency": "USD"}),
        ] {
            if !coop
                .currencies
                .contains(&price["currency"].as_str().unwrap_or_default())
            {
                continue;
            }
            api.post(
                "/v1/shipping-zones",
                Some(&owner),
                &json!({
                    "name": "中亚 Central Asia", "countries": ["KZ", "UZ"],
                    "rates": [{"name": "China Post to Central Asia", "price": price}]
                }),
            )
            .await?;
        }
    }

    // A group deal on the first product (15 % off in a group of three) and next
    // season's harvest of the last one for pre-order, with a quarter down.
    let first = &coop.products[0];
    let last = &coop.products[coop.products.len() - 1];
    let share = |product: &Product, percent: i64| {
        let mut amounts =
            vec![json!({"amount": product.prices[0] * percent / 100, "currency": "CNY"})];
        if coop.currencies.contains(&"USD") {
            amounts.push(json!({"amount": product.prices[1] * percent / 100, "currency": "USD"}));
            amounts.push(json!({"amount": product.prices[2] * percent / 100, "currency": "KZT"}));
        }
        amounts
    };
    let now = chrono::Utc::now();
    api.post(
        "/v1/group-deals",
        Some(&owner),
        &json!({
            "variant_id": variants[0], "prices": share(first, 85),
            "group_size": 3, "open_hours": 48, "max_units": 300,
            "ends_at": (now + chrono::Duration::days(30)).to_rfc3339(),
        }),
    )
    .await?;
    api.post(
        "/v1/preorder-campaigns",
        Some(&owner),
        &json!({
            "variant_id": variants[variants.len() - 1], "allocation": 500,
            "ships_from": (now + chrono::Duration::days(150)).date_naive(),
            "deposits": share(last, 25), "balance_days": 7, "deposit_policy": "refund",
        }),
    )
    .await?;

    // Orders: one waiting for payment, one paid, one shipped, one cancelled.
    let mut orders = Vec::new();
    for (index, quantity) in [1, 2, 3, 1].into_iter().enumerate() {
        let variant = &variants[index % variants.len()];
        orders.push(guest_order(api, coop.slug, variant, quantity, index).await?);
    }
    for (order, token) in &orders[1..3] {
        let (status, answer) = api
            .send(
                Method::POST,
                &format!("/v1/shops/{}/orders/{order}/payments", coop.slug),
                None,
                &[("X-Order-Token", token.as_str())],
                Some(&json!({"provider": "test", "card_number": "4242424242424242"})),
            )
            .await?;
        anyhow::ensure!(
            status == 200,
            "paying answered {status}: {}",
            crate::api::describe(&answer)
        );
    }
    api.post(
        &format!("/v1/orders/{}/fulfillments", orders[2].0),
        Some(&owner),
        &json!({"carrier": "顺丰速运 SF Express", "tracking_number": format!("SF{}", 1_000_000_000_u64 + orders.len() as u64)}),
    )
    .await?;
    api.post(
        &format!("/v1/orders/{}/cancel", orders[3].0),
        Some(&owner),
        &json!({"reason": "买家要求取消 / cancelled at the buyer's request"}),
    )
    .await?;
    Ok(())
}

/// A guest buys `quantity` of `variant`; answers (order id, access token).
async fn guest_order(
    api: &Api,
    shop: &str,
    variant: &str,
    quantity: i32,
    index: usize,
) -> anyhow::Result<(String, String)> {
    let cart = api
        .post(&format!("/v1/shops/{shop}/carts"), None, &json!({}))
        .await?;
    let (cart_id, token) = (
        cart["id"].as_str().context("cart id")?.to_owned(),
        cart["token"].as_str().context("cart token")?.to_owned(),
    );
    let headers = [("X-Cart-Token", token.as_str())];
    let (status, _) = api
        .send(
            Method::POST,
            &format!("/v1/shops/{shop}/carts/{cart_id}/lines"),
            None,
            &headers,
            Some(&json!({"variant_id": variant, "quantity": quantity})),
        )
        .await?;
    anyhow::ensure!(status == 200, "adding to the cart answered {status}");
    let (_, view) = api
        .send(
            Method::GET,
            &format!(
                "/v1/shops/{shop}/carts/{cart_id}?country=CN&province=%E4%B8%8A%E6%B5%B7%E5%B8%82"
            ),
            None,
            &headers,
            None,
        )
        .await?;
    let rate = view["shipping_options"][0]["rate_id"]
        .as_str()
        .context("a shipping option")?
        .to_owned();
    let buyers = ["王芳", "Aliya Nurlanovna", "李娜", "Dilnur Ablimit"];
    let key = format!("demo-{shop}-{index}");
    let (status, order) = api
        .send(
            Method::POST,
            &format!("/v1/shops/{shop}/checkout"),
            None,
            &[("X-Cart-Token", token.as_str()), ("Idempotency-Key", key.as_str())],
            Some(&json!({
                "cart_id": cart_id, "email": format!("buyer{index}@{shop}.example.cn"), "phone": "+86 138 0013 8000",
                "shipping_address": {"country": "CN", "province": "上海市", "city": "上海市", "district": "浦东新区",
                    "street": "世纪大道 100 号", "postal_code": "200120", "recipient": buyers[index % buyers.len()]},
                "shipping_rate_id": rate
            })),
        )
        .await?;
    anyhow::ensure!(
        status == 201,
        "checkout answered {status}: {}",
        crate::api::describe(&order)
    );
    Ok((
        order["id"].as_str().context("order id")?.to_owned(),
        order["access_token"]
            .as_str()
            .context("order token")?
            .to_owned(),
    ))
}
