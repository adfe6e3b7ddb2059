//! Group deals (拼团) on the storefront: the offer on a product page, opening or
//! joining a group (a cart of its own, then the group checkout), and a group's page
//! to share — its price, how many have joined, the time left, its QR code — which
//! works without script and previews well where the link is pasted.

use super::Shop;
use crate::i18n::Lang;
use crate::money;
use crate::page::{Frame, PageError, Visit, id_in, render, see_other};
use crate::session::{CartRef, GroupCart};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{CartKey, Failure, Localized, Money, PublicDeal, PublicGroup};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use uuid::Uuid;

/// Text of the deal in the page's language, else the shop's default, else any;
/// with its language when it is not the page's.
pub fn text_in(shop: &Shop, text: &Localized) -> (String, Option<String>) {
    let wanted = [shop.lang.tag(), shop.profile.default_locale.as_str()];
    wanted
        .iter()
        .find_map(|tag| text.get(*tag).map(|value| (*tag, value)))
        .or_else(|| text.iter().next().map(|(tag, value)| (tag.as_str(), value)))
        .map(|(tag, value)| {
            let other = (tag != shop.lang.tag()).then(|| tag.to_owned());
            (value.clone(), other)
        })
        .unwrap_or_default()
}

/// The currency a deal is shown and bought in: the page's when the deal has a price
/// in it, else the deal's first.
fn deal_currency(deal: &PublicDeal, wanted: &str) -> Option<String> {
    let priced = |code: &str| deal.prices.iter().any(|p| p.currency.as_str() == code);
    if priced(wanted) {
        Some(wanted.to_owned())
    } else {
        deal.prices.first().map(|p| p.currency.as_str().to_owned())
    }
}

fn price_in(prices: &[Money], currency: &str) -> Option<Money> {
    prices
        .iter()
        .find(|p| p.currency.as_str() == currency)
        .copied()
}

/// Whether new groups can open: the deal has not ended and has units left.
fn deal_open(deal: &PublicDeal, now: DateTime<Utc>) -> bool {
    deal.live.unwrap_or(deal.ends_at > now) && deal.ends_at > now && deal.units_left > 0
}

/// "5 h 20 min left" (or minutes only in the last hour).
fn time_left(lang: Lang, until: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let minutes = (until - now).num_minutes();
    if minutes <= 0 {
        return lang.t("group-closing-now");
    }
    let (hours, minutes) = (minutes / 60, minutes % 60);
    if hours == 0 {
        lang.t_with("group-minutes-left", &[("minutes", minutes.to_string())])
    } else {
        lang.t_with(
            "group-time-left",
            &[
                ("hours", hours.to_string()),
                ("minutes", minutes.to_string()),
            ],
        )
    }
}

/// `2026-12-05 18:00` in China time (the pages' times are China's).
fn china(lang: Lang, at: DateTime<Utc>) -> String {
    let pattern = match lang {
        Lang::ZhCn => "%Y年%m月%d日 %H:%M",
        _ => "%Y-%m-%d %H:%M",
    };
    crate::clock::in_china(at).format(pattern).to_string()
}

/// The sentence for a refused group checkout (`problem` as the API coded it).
pub fn problem_sentence(lang: Lang, problem: &str) -> Option<String> {
    let key = match problem {
        "group_full" => "group-problem-full",
        "group_closed" => "group-problem-closed",
        "deal_not_live" => "group-problem-not-live",
        "deal_sold_out" => "group-problem-sold-out",
        "unavailable" => "group-problem-unavailable",
        _ => return None,
    };
    Some(lang.t(key))
}

/// A group's place on its page: `k` of `n` joined, as a bar of `n` places that fills
/// from the start of the line (the right, in Uyghur).
pub struct Progress {
    pub joined: i64,
    pub size: i64,
    pub places: Vec<bool>,
    pub label: String,
}

impl Progress {
    fn of(lang: Lang, joined: i64, size: i32) -> Self {
        let size = i64::from(size).clamp(1, 100);
        let joined = joined.clamp(0, size);
        Self {
            joined,
            size,
            places: (0..size).map(|place| place < joined).collect(),
            label: lang.t_with(
                "group-joined",
                &[("joined", joined.to_string()), ("size", size.to_string())],
            ),
        }
    }
}

/// A group's link to share (absolute, on the public origin) and its QR code.
pub struct Share {
    pub url: String,
    pub qr: Option<String>,
}

impl Share {
    fn of(visit: &Visit, shop: &Shop, group: Uuid) -> Self {
        let url = visit.absolute(&format!("{}/g/{group}", shop.root()));
        Self {
            qr: crate::qr::svg(&url),
            url,
        }
    }
}

// --- the product page's offer --------------------------------------------------

/// A live deal in the product page's box.
pub struct DealOffer {
    pub id: String,
    pub product_id: String,
    pub handle: String,
    pub variant: String,
    pub price: String,
    pub regular: Option<String>,
    pub currency: String,
    pub people: String,
    pub hours: String,
}

/// The product's live deals, ready for its page (none when the API cannot say).
pub async fn offers(visit: &Visit, shop: &Shop, product: Uuid, currency: &str) -> Vec<DealOffer> {
    let deals = match visit
        .api()
        .product_group_deals(visit.caller(), shop.slug(), product)
        .await
    {
        Ok(deals) => deals,
        Err(failure) => {
            tracing::warn!(%failure, "group deals not shown");
            return Vec::new();
        }
    };
    let l = shop.lang;
    let now = Utc::now();
    deals
        .iter()
        .filter(|deal| deal_open(deal, now))
        .filter_map(|deal| {
            let currency = deal_currency(deal, currency)?;
            let price = price_in(&deal.prices, &currency)?;
            Some(DealOffer {
                id: deal.id.to_string(),
                product_id: deal.product_id.to_string(),
                handle: deal.handle.clone(),
                variant: deal
                    .variant_title
                    .as_ref()
                    .map(|title| text_in(shop, title).0)
                    .unwrap_or_default(),
                price: money::format(price, l),
                regular: price_in(&deal.regular_prices, &currency).map(|m| money::format(m, l)),
                currency,
                people: l.t_with("group-people", &[("size", deal.group_size.to_string())]),
                hours: l.t_with(
                    "group-hours-to-fill",
                    &[("hours", deal.open_hours.to_string())],
                ),
            })
        })
        .collect()
}

// --- opening and joining -------------------------------------------------------

/// Where a group's buyer goes back to: the group's page, or for a new group the
/// product's; `problem` says why (`?problem=group_full`).
pub fn back_to(shop: &Shop, held: &GroupCart, problem: &str) -> String {
    let query = serde_urlencoded::to_string([("problem", problem)]).unwrap_or_default();
    match held.group_id {
        Some(group) => format!("{}/g/{group}?{query}", shop.root()),
        None => format!("{}/p/{}?{query}", shop.root(), held.handle),
    }
}

#[derive(Debug, Deserialize)]
pub struct OpenForm {
    deal_id: Uuid,
    product_id: Uuid,
    handle: String,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// `POST /s/{shop}/{lang}/g/open`: a new group of a live deal — a cart of its own
/// with one unit of the deal's variant, then the group checkout.
pub async fn open(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<OpenForm>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    visit.check_csrf(shop.lang, &form.csrf)?;
    let deals = visit
        .api()
        .product_group_deals(visit.caller(), shop.slug(), form.product_id)
        .await
        .map_err(|f| PageError::from_failure(shop.lang, &f))?;
    let Some(deal) = deals.into_iter().find(|deal| deal.id == form.deal_id) else {
        // The handle came with the form: only a handle's characters go in the address.
        let location = if !form.handle.is_empty()
            && form
                .handle
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            format!("{}/p/{}?problem=deal_not_live", shop.root(), form.handle)
        } else {
            format!("{}/products", shop.root())
        };
        return Ok(see_other(&location));
    };
    start(&mut visit, &shop, &deal, None, form.currency.as_deref()).await
}

#[derive(Debug, Deserialize)]
pub struct JoinForm {
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    csrf: String,
}

/// `POST /s/{shop}/{lang}/g/{group}/join`: joins a forming group — a cart of its
/// own with one unit of the deal's variant, then the group checkout.
pub async fn join(
    mut visit: Visit,
    path: web::Path<(String, String, String)>,
    form: web::Form<JoinForm>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang, group) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let id = id_in(shop.lang, &group)?;
    visit.check_csrf(shop.lang, &form.csrf)?;
    let group = visit
        .api()
        .shop_group(visit.caller(), shop.slug(), id)
        .await
        .map_err(|f| PageError::from_failure(shop.lang, &f))?;
    if group.status != "forming" || group.places_left <= 0 {
        let problem = if group.status == "forming" {
            "group_full"
        } else {
            "group_closed"
        };
        return Ok(see_other(&format!(
            "{}/g/{id}?problem={problem}",
            shop.root()
        )));
    }
    start(
        &mut visit,
        &shop,
        &group.deal,
        Some(id),
        form.currency.as_deref(),
    )
    .await
}

/// Makes the group's cart, remembers it apart from the shop's cart, and sends the
/// buyer to the group checkout.
async fn start(
    visit: &mut Visit,
    shop: &Shop,
    deal: &PublicDeal,
    group: Option<Uuid>,
    wanted: Option<&str>,
) -> Result<HttpResponse, PageError> {
    let l = shop.lang;
    let wanted = shop.currency(visit, wanted);
    let Some(currency) = deal_currency(deal, &wanted) else {
        return Err(PageError::not_found(l));
    };
    let bearer = visit.bearer().await;
    let caller = visit.caller().with_bearer(bearer.as_deref());
    let cart = visit
        .api()
        .create_cart(caller, shop.slug(), &currency, &shop.content_locale())
        .await
        .map_err(|f| PageError::from_failure(l, &f))?;
    let held = CartRef {
        id: cart.id,
        token: cart.token.clone().unwrap_or_default(),
        currency,
        count: 0,
    };
    let key = CartKey {
        id: held.id,
        token: &held.token,
    };
    let added = visit
        .api()
        .add_line(caller, shop.slug(), key, deal.variant_id, 1)
        .await;
    let group_cart = GroupCart {
        cart: held,
        deal_id: deal.id,
        product_id: deal.product_id,
        handle: deal.handle.clone(),
        group_id: group,
    };
    match added {
        Ok(_) => {}
        Err(Failure::Refused { .. }) => {
            return Ok(see_other(&back_to(shop, &group_cart, "deal_sold_out")));
        }
        Err(failure) => return Err(PageError::from_failure(l, &failure)),
    }
    visit
        .session_mut()
        .data
        .group_carts
        .insert(shop.slug().to_owned(), group_cart);
    let response = see_other(&format!("{}/group-checkout", shop.root()));
    Ok(visit.reply(response).await)
}

/// The group price of a group checkout, or the problem that ends it (the deal is no
/// longer live, the group no longer forming).
pub async fn checkout_summary(
    visit: &Visit,
    shop: &Shop,
    held: &GroupCart,
) -> Result<super::checkout::GroupSummary, &'static str> {
    let deal = match held.group_id {
        Some(id) => {
            let group = visit
                .api()
                .shop_group(visit.caller(), shop.slug(), id)
                .await
                .map_err(|_| "unavailable")?;
            if group.status != "forming" {
                return Err("group_closed");
            }
            group.deal
        }
        None => visit
            .api()
            .product_group_deals(visit.caller(), shop.slug(), held.product_id)
            .await
            .map_err(|_| "unavailable")?
            .into_iter()
            .find(|deal| deal.id == held.deal_id)
            .ok_or("deal_not_live")?,
    };
    let l = shop.lang;
    let currency = held.cart.currency.as_str();
    let price = price_in(&deal.prices, currency).ok_or("deal_not_live")?;
    Ok(super::checkout::GroupSummary {
        price: money::format(price, l),
        regular: price_in(&deal.regular_prices, currency).map(|m| money::format(m, l)),
        size: deal.group_size,
        hours: deal.open_hours,
        joining: held.group_id.is_some(),
    })
}

// --- the group's page ------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct ShareQuery {
    #[serde(default)]
    problem: Option<String>,
    #[serde(default)]
    currency: Option<String>,
}

#[derive(Template)]
#[template(path = "group.html")]
struct GroupPage {
    page: Frame,
    csrf: String,
    title: String,
    title_lang: Option<String>,
    variant: String,
    product_href: String,
    picture: Option<super::shop::Picture>,
    price: String,
    regular: Option<String>,
    currency: String,
    /// `forming`, `formed` or `failed`.
    status: String,
    status_text: String,
    progress: Progress,
    places_left: String,
    time_left: Option<String>,
    until: String,
    formed_at: Option<String>,
    can_join: bool,
    /// Whether a new group of the deal can be opened.
    can_open: bool,
    deal_id: String,
    product_id: String,
    handle: String,
    join_action: String,
    open_action: String,
    share: Share,
    problem: Option<String>,
}

/// `GET /s/{shop}/{lang}/g/{group}`: the group's page, to share. Another shop's
/// group, or none, is the 404 page.
pub async fn share(
    visit: Visit,
    path: web::Path<(String, String, String)>,
    query: web::Query<ShareQuery>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang, group) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let id = id_in(shop.lang, &group)?;
    let group: PublicGroup = visit
        .api()
        .shop_group(visit.caller(), shop.slug(), id)
        .await
        .map_err(|f| PageError::from_failure(shop.lang, &f))?;
    let l = shop.lang;
    let now = Utc::now();
    let deal = &group.deal;
    let wanted = shop.currency(&visit, query.currency.as_deref());
    let currency = deal_currency(deal, &wanted).unwrap_or(wanted);
    let (title, title_lang) = text_in(&shop, &deal.product_title);
    let title = if title.is_empty() {
        deal.handle.clone()
    } else {
        title
    };
    let price = price_in(&deal.prices, &currency).map(|m| money::format(m, l));
    let regular = price_in(&deal.regular_prices, &currency).map(|m| money::format(m, l));
    let forming = group.status == "forming";
    let status_text = match group.status.as_str() {
        "formed" => l.t("group-status-formed"),
        "failed" => l.t("group-status-failed"),
        _ if group.places_left <= 0 => l.t("group-status-full"),
        _ => l.t("group-status-forming"),
    };
    let share = Share::of(&visit, &shop, group.id);
    let price_text = price.clone().unwrap_or_default();
    let mut page = shop.frame(
        &visit,
        l.t_with(
            "group-page-title",
            &[("name", title.clone()), ("price", price_text.clone())],
        ),
        &format!("/g/{}", group.id),
    );
    page.description = l.t_with(
        "group-page-description",
        &[
            ("name", title.clone()),
            ("price", price_text),
            ("regular", regular.clone().unwrap_or_default()),
            ("size", group.group_size.to_string()),
            ("joined", group.joined.to_string()),
        ],
    );
    page.og_type = "product";
    page.og_image = deal.image.as_ref().map(|image| {
        if image.url.starts_with('/') {
            visit.absolute(&image.url)
        } else {
            image.url.clone()
        }
    });
    // A group lives a few hours: shared by link, not kept by search engines.
    page.noindex = true;
    let body = render(
        l,
        &GroupPage {
            csrf: visit.csrf(),
            title_lang,
            variant: deal
                .variant_title
                .as_ref()
                .map(|t| text_in(&shop, t).0)
                .unwrap_or_default(),
            product_href: format!("{}/p/{}", shop.root(), deal.handle),
            picture: deal
                .image
                .as_ref()
                .map(|image| super::shop::Picture::of(image, &title, 480)),
            title,
            price: price.unwrap_or_default(),
            regular,
            currency,
            status: group.status.clone(),
            status_text,
            progress: Progress::of(l, group.joined, group.group_size),
            places_left: l.t_with(
                "group-places-left",
                &[("count", group.places_left.max(0).to_string())],
            ),
            time_left: forming.then(|| time_left(l, group.expires_at, now)),
            until: china(l, group.expires_at),
            formed_at: group.formed_at.map(|at| china(l, at)),
            // A forming group takes members until its own time runs out, even
            // after its deal stopped opening new groups.
            can_join: forming
                && group.places_left > 0
                && group.expires_at > now
                && deal.units_left > 0,
            can_open: deal_open(deal, now),
            deal_id: deal.id.to_string(),
            product_id: deal.product_id.to_string(),
            handle: deal.handle.clone(),
            join_action: format!("{}/g/{}/join", shop.root(), group.id),
            open_action: format!("{}/g/open", shop.root()),
            share,
            problem: query
                .problem
                .as_deref()
                .and_then(|p| problem_sentence(l, p)),
            page,
        },
    )?;
    Ok(visit.html(StatusCode::OK, body, false))
}

// --- an order's group ----------------------------------------------------------

/// The group of an order, on the order's page.
pub struct OrderGroupView {
    pub status: String,
    pub status_text: String,
    pub progress: Progress,
    pub time_left: Option<String>,
    pub until: String,
    pub share: Share,
}

impl OrderGroupView {
    pub fn of(visit: &Visit, shop: &Shop, group: &caravan_client::OrderGroup) -> Self {
        let l = shop.lang;
        let forming = group.status == "forming";
        Self {
            status: group.status.clone(),
            status_text: match group.status.as_str() {
                "formed" => l.t("group-order-formed"),
                "failed" => l.t("group-order-failed"),
                _ => l.t("group-order-forming"),
            },
            progress: Progress::of(l, group.joined, group.group_size),
            time_left: forming.then(|| time_left(l, group.expires_at, Utc::now())),
            until: china(l, group.expires_at),
            share: Share::of(visit, shop, group.id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn time_left_in_hours_and_minutes() {
        let now = Utc::now();
        let later = now + Duration::minutes(5 * 60 + 20) + Duration::seconds(30);
        assert_eq!(time_left(Lang::En, later, now), "5 h 20 min left");
        assert_eq!(
            time_left(Lang::En, now + Duration::minutes(42), now),
            "42 min left"
        );
        assert_eq!(
            time_left(Lang::En, now - Duration::seconds(1), now),
            Lang::En.t("group-closing-now")
        );
    }

    #[test]
    fn progress_fills_places_from_the_start() {
        let progress = Progress::of(Lang::En, 2, 3);
        assert_eq!(progress.places, [true, true, false]);
        assert_eq!(progress.label, "2 of 3 joined");
        assert_eq!(Progress::of(Lang::En, 9, 3).joined, 3);
    }

    #[test]
    fn every_refusal_of_a_group_checkout_is_explained() {
        for code in [
            "group_full",
            "group_closed",
            "deal_not_live",
            "deal_sold_out",
        ] {
            for lang in Lang::ALL {
                assert!(problem_sentence(lang, code).is_some(), "{code}");
            }
        }
        assert_eq!(problem_sentence(Lang::En, "<script>"), None);
    }
}
