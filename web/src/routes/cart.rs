//! The cart: add from a product page (this starts the visitor's session), change
//! quantities, remove lines, see each line's problem in words and estimate
//! shipping for a destination.

use super::Shop;
use crate::i18n::Lang;
use crate::money;
use crate::page::{Frame, PageError, Visit, render, see_other};
use crate::session::CartRef;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Cart, CartKey, Failure};
use serde::Deserialize;
use uuid::Uuid;

/// The session's cart in `shop`, opened in `currency`: made now when there is none
/// (tied to the account when someone is signed in), remade in another currency
/// with the same lines when the buyer chose another.
pub async fn cart_in(visit: &mut Visit, shop: &Shop, currency: &str) -> Result<CartRef, Failure> {
    let bearer = visit.bearer().await;
    let held = visit.held_cart(shop.slug());
    if let Some(held) = held.as_ref().filter(|held| held.currency == currency) {
        return Ok(held.clone());
    }
    let caller = visit.caller().with_bearer(bearer.as_deref());
    let fresh = visit
        .api()
        .create_cart(caller, shop.slug(), currency, &shop.content_locale())
        .await?;
    let mut made = CartRef {
        id: fresh.id,
        token: fresh.token.clone().unwrap_or_default(),
        currency: currency.to_owned(),
        count: 0,
    };
    if let Some(held) = held {
        made.count = carry_lines(visit, shop, &held, &made, bearer.as_deref()).await;
    }
    visit
        .session_mut()
        .data
        .carts
        .insert(shop.slug().to_owned(), made.clone());
    Ok(made)
}

/// The session's cart `held` as the API prices it now, with the shipping options
/// for `destination` (country, province) when one is given.
pub async fn read(
    visit: &mut Visit,
    shop: &Shop,
    held: &CartRef,
    destination: Option<&(String, String)>,
) -> Result<Cart, Failure> {
    let bearer = visit.bearer().await;
    let key = CartKey {
        id: held.id,
        token: &held.token,
    };
    visit
        .api()
        .cart(
            visit.caller().with_bearer(bearer.as_deref()),
            shop.slug(),
            key,
            destination.map(|(c, p)| (c.as_str(), p.as_str())),
        )
        .await
}

/// Copies the lines of cart `from` into cart `to` (another currency, or a guest's
/// cart becoming the signed-in customer's); answers the units carried.
pub async fn carry_lines(
    visit: &Visit,
    shop: &Shop,
    from: &CartRef,
    to: &CartRef,
    bearer: Option<&str>,
) -> i64 {
    let caller = visit.caller().with_bearer(bearer);
    let old = CartKey {
        id: from.id,
        token: &from.token,
    };
    let Ok(old) = visit
        .api()
        .cart(visit.caller(), shop.slug(), old, None)
        .await
    else {
        return 0;
    };
    if old.order_id.is_some() {
        return 0;
    }
    let key = CartKey {
        id: to.id,
        token: &to.token,
    };
    let mut count = 0;
    for line in &old.lines {
        if let Ok(cart) = visit
            .api()
            .add_line(caller, shop.slug(), key, line.variant_id, line.quantity)
            .await
        {
            count = cart.item_count;
        }
    }
    count
}

#[derive(Debug, Deserialize)]
pub struct AddForm {
    variant_id: Uuid,
    #[serde(default = "one")]
    quantity: i32,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    csrf: String,
}

fn one() -> i32 {
    1
}

/// `POST /s/{shop}/{lang}/cart/add`: puts units of a variant in the cart.
pub async fn add(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<AddForm>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    visit.check_csrf(shop.lang, &form.csrf)?;
    let currency = shop.currency(&visit, form.currency.as_deref());
    let quantity = form.quantity.clamp(1, 999);
    let mut attempt = 0;
    loop {
        let cart = cart_in(&mut visit, &shop, &currency)
            .await
            .map_err(|f| PageError::from_failure(shop.lang, &f))?;
        let bearer = visit.bearer().await;
        let key = CartKey {
            id: cart.id,
            token: &cart.token,
        };
        let added = visit
            .api()
            .add_line(
                visit.caller().with_bearer(bearer.as_deref()),
                shop.slug(),
                key,
                form.variant_id,
                quantity,
            )
            .await;
        match added {
            Ok(answer) => {
                remember(&mut visit, &shop, &answer);
                break;
            }
            // The cart was checked out or is gone: start a new one, once.
            Err(failure) if failure.is_not_found() && attempt == 0 => {
                attempt += 1;
                visit.session_mut().data.carts.remove(shop.slug());
            }
            Err(Failure::Refused { .. }) => break,
            Err(failure) => return Err(PageError::from_failure(shop.lang, &failure)),
        }
    }
    let response = see_other(&format!("{}/cart", shop.root()));
    Ok(visit.reply(response).await)
}

/// Keeps the cart's unit count for the shop's bar.
fn remember(visit: &mut Visit, shop: &Shop, cart: &Cart) {
    if let Some(held) = visit.session_mut().data.carts.get_mut(shop.slug()) {
        held.count = cart.item_count;
    }
}

#[derive(Debug, Deserialize)]
pub struct LineForm {
    #[serde(default)]
    quantity: i32,
    #[serde(default)]
    csrf: String,
}

/// `POST /s/{shop}/{lang}/cart/lines/{variant}`: sets a line's quantity; zero
/// removes it.
pub async fn update(
    mut visit: Visit,
    path: web::Path<(String, String, Uuid)>,
    form: web::Form<LineForm>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang, variant) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    visit.check_csrf(shop.lang, &form.csrf)?;
    let Some(cart) = visit.held_cart(shop.slug()) else {
        return Ok(see_other(&format!("{}/cart", shop.root())));
    };
    let bearer = visit.bearer().await;
    let caller = visit.caller().with_bearer(bearer.as_deref());
    let key = CartKey {
        id: cart.id,
        token: &cart.token,
    };
    let changed = if form.quantity <= 0 {
        visit
            .api()
            .remove_line(caller, shop.slug(), key, variant)
            .await
    } else {
        visit
            .api()
            .set_line(caller, shop.slug(), key, variant, form.quantity.min(9999))
            .await
    };
    match changed {
        Ok(answer) => remember(&mut visit, &shop, &answer),
        Err(Failure::Refused { .. }) => {}
        Err(failure) => return Err(PageError::from_failure(shop.lang, &failure)),
    }
    let response = see_other(&format!("{}/cart", shop.root()));
    Ok(visit.reply(response).await)
}

/// A cart line on the page.
pub struct LineView {
    pub variant_id: String,
    pub title: String,
    pub variant_title: String,
    pub href: Option<String>,
    pub sku: String,
    pub quantity: i32,
    pub unit_price: Option<String>,
    pub line_total: Option<String>,
    pub problem: Option<String>,
}

/// The cart, as the cart and checkout pages show it.
pub struct CartView {
    pub lines: Vec<LineView>,
    pub subtotal: String,
    pub count: i64,
    pub ready: bool,
    pub options: Vec<OptionView>,
}

/// A shipping option.
pub struct OptionView {
    pub rate_id: String,
    pub label: String,
    pub price: String,
}

impl CartView {
    /// A cart that could not be read.
    pub fn unknown() -> Self {
        Self {
            lines: Vec::new(),
            subtotal: String::new(),
            count: 0,
            ready: false,
            options: Vec::new(),
        }
    }

    pub fn of(shop: &Shop, cart: &Cart) -> Self {
        let l = shop.lang;
        Self {
            lines: cart
                .lines
                .iter()
                .map(|line| LineView {
                    variant_id: line.variant_id.to_string(),
                    title: line.title.clone().unwrap_or_else(|| l.t("cart-line-gone")),
                    variant_title: line.variant_title.clone().unwrap_or_default(),
                    href: line
                        .handle
                        .as_ref()
                        .map(|h| format!("{}/p/{h}", shop.root())),
                    sku: line.sku.clone().unwrap_or_default(),
                    quantity: line.quantity,
                    unit_price: line.unit_price.map(|m| money::format(m, l)),
                    line_total: line.line_total.map(|m| money::format(m, l)),
                    problem: line.problem.as_deref().map(|problem| match problem {
                        "insufficient_stock" => l.t_with(
                            "problem-insufficient-stock",
                            &[("available", line.available.unwrap_or(0).to_string())],
                        ),
                        "out_of_stock" => l.t("problem-out-of-stock"),
                        "not_sold_in_currency" => l.t_with(
                            "problem-not-sold-in-currency",
                            &[("currency", cart.currency.to_string())],
                        ),
                        _ => l.t("problem-unavailable"),
                    }),
                })
                .collect(),
            subtotal: money::format(cart.subtotal, l),
            count: cart.item_count,
            ready: cart.ready && !cart.lines.is_empty(),
            options: cart
                .shipping_options
                .iter()
                .flatten()
                .map(|option| OptionView {
                    rate_id: option.rate_id.to_string(),
                    label: format!("{} · {}", option.zone, option.name),
                    price: if option.price.amount == 0 {
                        l.t("shipping-free")
                    } else {
                        money::format(option.price, l)
                    },
                })
                .collect(),
        }
    }
}

/// A country the shop ships to, for a `<select>`.
pub struct CountryChoice {
    pub code: String,
    pub name: String,
    pub selected: bool,
}

/// The countries `shop` ships to, named in the page's language.
pub fn countries(shop: &Shop, selected: &str) -> Vec<CountryChoice> {
    let mut codes = shop.profile.ship_to.clone();
    if codes.is_empty() {
        codes.push("CN".to_owned());
    }
    codes
        .into_iter()
        .map(|code| CountryChoice {
            name: country_name(shop.lang, &code),
            selected: code == selected,
            code,
        })
        .collect()
}

/// A country's name in `lang`, else its code.
pub fn country_name(lang: Lang, code: &str) -> String {
    let key = format!("country-{code}");
    let name = lang.t(&key);
    if name == key { code.to_owned() } else { name }
}

/// A province of China, for the address form: its official name (what zones and
/// couriers use) and a Latin name for readers of other languages.
pub const PROVINCES: [(&str, &str); 34] = [
    ("北京市", "Beijing"),
    ("天津市", "Tianjin"),
    ("河北省", "Hebei"),
    ("山西省", "Shanxi"),
    ("内蒙古自治区", "Inner Mongolia"),
    ("辽宁省", "Liaoning"),
    ("吉林省", "Jilin"),
    ("黑龙江省", "Heilongjiang"),
    ("上海市", "Shanghai"),
    ("江苏省", "Jiangsu"),
    ("浙江省", "Zhejiang"),
    ("安徽省", "Anhui"),
    ("福建省", "Fujian"),
    ("江西省", "Jiangxi"),
    ("山东省", "Shandong"),
    ("河南省", "Henan"),
    ("湖北省", "Hubei"),
    ("湖南省", "Hunan"),
    ("广东省", "Guangdong"),
    ("广西壮族自治区", "Guangxi"),
    ("海南省", "Hainan"),
    ("重庆市", "Chongqing"),
    ("四川省", "Sichuan"),
    ("贵州省", "Guizhou"),
    ("云南省", "Yunnan"),
    ("西藏自治区", "Tibet"),
    ("陕西省", "Shaanxi"),
    ("甘肃省", "Gansu"),
    ("青海省", "Qinghai"),
    ("宁夏回族自治区", "Ningxia"),
    ("新疆维吾尔自治区", "Xinjiang"),
    ("香港特别行政区", "Hong Kong"),
    ("澳门特别行政区", "Macao"),
    ("台湾省", "Taiwan"),
];

/// A province for a `<select>`.
pub struct ProvinceChoice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// China's provinces, labelled for `lang`.
pub fn provinces(lang: Lang, selected: &str) -> Vec<ProvinceChoice> {
    PROVINCES
        .iter()
        .map(|(official, latin)| ProvinceChoice {
            value: (*official).to_owned(),
            label: if lang == Lang::ZhCn {
                (*official).to_owned()
            } else {
                format!("{latin} · {official}")
            },
            selected: *official == selected,
        })
        .collect()
}

#[derive(Template)]
#[template(path = "cart.html")]
struct CartPage {
    page: Frame,
    root: String,
    csrf: String,
    cart: Option<CartView>,
    countries: Vec<CountryChoice>,
    provinces: Vec<ProvinceChoice>,
    country: String,
    estimated: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct Destination {
    #[serde(default)]
    pub country: Option<String>,
    #[serde(default)]
    pub province: Option<String>,
}

impl Destination {
    /// A country code the form may send (two capitals) and a bounded province.
    pub fn parts(&self) -> Option<(String, String)> {
        let country = self.country.as_deref()?.trim();
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            return None;
        }
        let province: String = self
            .province
            .as_deref()
            .unwrap_or_default()
            .trim()
            .chars()
            .take(100)
            .collect();
        Some((country.to_owned(), province))
    }
}

/// `GET /s/{shop}/{lang}/cart`: the cart, its problems and a shipping estimate.
pub async fn show(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    query: web::Query<Destination>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let destination = query.parts();
    let held = visit.held_cart(shop.slug());
    let mut cart = None;
    if let Some(held) = held {
        let answer = read(&mut visit, &shop, &held, destination.as_ref()).await;
        match answer {
            Ok(answer) if answer.order_id.is_none() => {
                remember(&mut visit, &shop, &answer);
                cart = Some(CartView::of(&shop, &answer));
            }
            Ok(_) | Err(Failure::Refused { .. }) => {
                visit.session_mut().data.carts.remove(shop.slug());
            }
            Err(failure) => return Err(PageError::from_failure(shop.lang, &failure)),
        }
    }
    let mut page = shop.frame(&visit, shop.lang.t("cart-title"), "/cart");
    page.noindex = true;
    page.htmx = true;
    let (country, province) = destination
        .clone()
        .unwrap_or_else(|| ("CN".into(), String::new()));
    let body = render(
        shop.lang,
        &CartPage {
            root: shop.root(),
            csrf: visit.csrf(),
            countries: countries(&shop, &country),
            provinces: provinces(shop.lang, &province),
            estimated: destination.is_some(),
            country,
            cart,
            page,
        },
    )?;
    let response = visit.html(StatusCode::OK, body, false);
    Ok(visit.reply(response).await)
}
