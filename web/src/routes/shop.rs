//! The shop's catalogue: its home, the product list and the product page. These
//! pages set no cookie and, for a visitor without a session, may be cached.

use super::Shop;
use crate::i18n::Lang;
use crate::money;
use crate::page::{Frame, PageError, Visit, render, script_json, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Category, Product, ProductQuery};
use serde::Deserialize;

/// A product as a card in a list.
/// An image as a page draws it: every size the catalog made, for the browser to
/// choose from (`srcset`), with its proportions so the page does not shift.
pub struct Picture {
    pub src: String,
    pub srcset: String,
    pub width: u32,
    pub height: u32,
    pub alt: String,
}

impl Picture {
    /// `image` drawn at most `width` pixels wide (its height in proportion).
    pub fn of(image: &caravan_client::Image, alt: &str, width: u32) -> Self {
        let (natural_w, natural_h) = match (image.width, image.height) {
            (Some(w), Some(h)) if w > 0 && h > 0 => (w, h),
            _ => (width, width),
        };
        let height = (u64::from(width) * u64::from(natural_h) / u64::from(natural_w)).max(1);
        let src = image
            .renditions
            .iter()
            .find(|r| r.width >= width)
            .or_else(|| image.renditions.last())
            .map_or_else(|| image.url.clone(), |r| r.url.clone());
        Self {
            src,
            srcset: image
                .renditions
                .iter()
                .map(|r| format!("{} {}w", r.url, r.width))
                .collect::<Vec<_>>()
                .join(", "),
            width,
            height: u32::try_from(height).unwrap_or(width),
            alt: image.alt.clone().unwrap_or_else(|| alt.to_owned()),
        }
    }
}

pub struct Card {
    pub href: String,
    pub picture: Option<Picture>,
    pub title: String,
    /// The language of the title when it is not the page's (a fallback).
    pub title_lang: Option<String>,
    pub price: Option<String>,
    pub compare_at: Option<String>,
    pub in_stock: bool,
    pub origin: String,
}

impl Card {
    fn of(shop: &Shop, product: &Product) -> Self {
        let variant = product
            .variants
            .iter()
            .filter(|v| v.price.is_some())
            .min_by_key(|v| v.price.map(|p| p.amount));
        let title = product.title.as_deref().unwrap_or(&product.handle);
        Self {
            href: format!("{}/p/{}", shop.root(), product.handle),
            picture: product
                .images
                .first()
                .map(|image| Picture::of(image, title, 320)),
            title: product
                .title
                .clone()
                .unwrap_or_else(|| product.handle.clone()),
            title_lang: fallback_lang(shop, &product.locale),
            price: variant
                .and_then(|v| v.price)
                .map(|p| money::format(p, shop.lang)),
            compare_at: variant
                .and_then(|v| v.compare_at_price)
                .filter(|c| Some(c.currency) == variant.and_then(|v| v.price).map(|p| p.currency))
                .map(|p| money::format(p, shop.lang)),
            in_stock: product.variants.iter().any(|v| v.in_stock),
            origin: origin_line(product),
        }
    }
}

/// An image's URL as other sites need it: uploads are paths on this origin.
fn absolute_url(visit: &Visit, url: &str) -> String {
    if url.starts_with('/') {
        visit.absolute(url)
    } else {
        url.to_owned()
    }
}

/// `Some(tag)` when content came in another language than the page's.
fn fallback_lang(shop: &Shop, content: &str) -> Option<String> {
    (content != shop.lang.tag()).then(|| content.to_owned())
}

/// "Ningxia · Zhongning county": where it grew, without a map.
fn origin_line(product: &Product) -> String {
    [
        product.origin.province.as_deref(),
        product.origin.place.as_deref(),
    ]
    .into_iter()
    .flatten()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(" · ")
}

/// `GET /s/{shop}`: to the shop in the visitor's language.
pub async fn enter(visit: Visit, slug: web::Path<String>) -> Result<HttpResponse, PageError> {
    let profile = visit.shop_profile(&slug).await.map_err(|failure| {
        let lang = visit.language_or(Lang::ZhCn);
        if failure.is_not_found() {
            PageError::shop_closed(lang)
        } else {
            PageError::from_failure(lang, &failure)
        }
    })?;
    let lang = visit.language_or(Lang::closest(&profile.default_locale).unwrap_or(Lang::ZhCn));
    Ok(see_other(&format!("/s/{}/{}/", profile.slug, lang.tag())))
}

/// `GET /s/{shop}/{lang}`: to the same page with its slash.
pub async fn home_without_slash(visit: Visit, path: web::Path<(String, String)>) -> HttpResponse {
    let (shop, lang) = path.into_inner();
    let slug_shaped = !shop.is_empty()
        && shop.len() <= 40
        && shop
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    match Lang::from_tag(&lang) {
        Some(lang) if slug_shaped => HttpResponse::PermanentRedirect()
            .insert_header(("location", format!("/s/{shop}/{}/", lang.tag())))
            .finish(),
        _ => actix_web::ResponseError::error_response(&PageError::not_found(
            visit.language_or(Lang::ZhCn),
        )),
    }
}

#[derive(Template)]
#[template(path = "shop_home.html")]
struct HomePage {
    page: Frame,
    root: String,
    categories: Vec<CategoryLink>,
    newest: Vec<Card>,
    logo: Option<String>,
    banner: Option<String>,
    /// The home page's sections in the shop's order: `banner`, `categories`,
    /// `new`, `story`.
    sections: Vec<String>,
}

impl HomePage {
    /// Whether the banner (with the shop's name as the page's heading) is shown.
    fn shows_banner(&self) -> bool {
        self.sections.iter().any(|section| section == "banner")
    }
}

pub struct CategoryLink {
    pub handle: String,
    pub name: String,
    pub href: String,
    pub current: bool,
}

fn category_links(
    shop: &Shop,
    categories: &[Category],
    current: Option<&str>,
) -> Vec<CategoryLink> {
    categories
        .iter()
        .map(|category| CategoryLink {
            handle: category.handle.clone(),
            name: category
                .name
                .clone()
                .unwrap_or_else(|| category.handle.clone()),
            href: format!("{}/products?category={}", shop.root(), category.handle),
            current: current == Some(category.handle.as_str()),
        })
        .collect()
}

/// `GET /s/{shop}/{lang}/`: the shop's home.
pub async fn home(
    visit: Visit,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let locale = shop.content_locale();
    let currency = shop.currency(&visit, None);
    let query = ProductQuery {
        locale: Some(locale.clone()),
        currency: Some(currency),
        limit: Some(8),
        ..ProductQuery::default()
    };
    let (categories, newest) = tokio::join!(
        visit.shop_categories(shop.slug(), &locale),
        visit.api().products(visit.caller(), shop.slug(), &query),
    );
    let categories = categories.map_err(|f| PageError::from_failure(shop.lang, &f))?;
    let newest = newest.map_err(|f| PageError::from_failure(shop.lang, &f))?;
    let mut page = shop.frame(&visit, shop.profile.name.clone(), "/");
    page.json_ld = Some(script_json(&serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Store",
        "name": shop.profile.name,
        "description": shop.description(),
        "url": visit.absolute(&format!("{}/", shop.root())),
    })));
    let body = render(
        shop.lang,
        &HomePage {
            root: shop.root(),
            categories: category_links(&shop, &categories, None),
            newest: newest.items.iter().map(|p| Card::of(&shop, p)).collect(),
            logo: shop.profile.logo_url.clone(),
            banner: shop.profile.theme.banner_url.clone(),
            sections: if shop.profile.theme.sections.is_empty() {
                ["banner", "categories", "new", "story"]
                    .map(str::to_owned)
                    .to_vec()
            } else {
                shop.profile.theme.sections.clone()
            },
            page,
        },
    )?;
    Ok(visit.html(StatusCode::OK, body, true))
}

/// `GET /s/{shop}/theme.css`: the shop's colours over the storefront's own.
/// Versioned by its address (the colours are in it), so it is cached for a day.
pub async fn theme(visit: Visit, slug: web::Path<String>) -> Result<HttpResponse, PageError> {
    let lang = visit.language_or(crate::i18n::Lang::ZhCn);
    let profile = visit.shop_profile(&slug).await.map_err(|failure| {
        if failure.is_not_found() {
            PageError::shop_closed(lang)
        } else {
            PageError::from_failure(lang, &failure)
        }
    })?;
    let brand = super::colour(profile.theme.brand_color.as_deref()).unwrap_or("#9A3412");
    let accent = super::colour(profile.theme.accent_color.as_deref()).unwrap_or(brand);
    let css = format!(
        ":root {{ --accent: {brand}; --highlight: {accent}; }}\n\
         .top {{ border-block-start: 4px solid {brand}; }}\n\
         .count {{ background: {accent}; }}\n"
    );
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/css; charset=utf-8")
        .insert_header((
            actix_web::http::header::CACHE_CONTROL,
            "public, max-age=86400",
        ));
    Ok(response.body(css))
}

/// The product list's filters, as the page's form sends them.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    tag: Option<String>,
    #[serde(default)]
    min: Option<String>,
    #[serde(default)]
    max: Option<String>,
    #[serde(default)]
    in_stock: Option<String>,
    #[serde(default)]
    sort: Option<String>,
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Template)]
#[template(path = "products.html")]
struct ListPage {
    page: Frame,
    heading: String,
    /// Whether a filter beyond the search text is set (its box starts open).
    filtered: bool,
    action: String,
    q: String,
    categories: Vec<CategoryLink>,
    tag: String,
    min: String,
    max: String,
    in_stock: bool,
    sort: String,
    currency: String,
    currencies: Vec<String>,
    base_currency: String,
    cards: Vec<Card>,
    more: Option<String>,
    searched: bool,
}

fn whole_number(raw: &Option<String>) -> Option<u32> {
    raw.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())?
        .parse()
        .ok()
}

/// `GET /s/{shop}/{lang}/products`: search, filters, sort and "more" by cursor.
pub async fn products(
    visit: Visit,
    path: web::Path<(String, String)>,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let query = query.into_inner();
    let locale = shop.content_locale();
    let currency = shop.currency(&visit, query.currency.as_deref());
    let categories = visit
        .shop_categories(shop.slug(), &locale)
        .await
        .map_err(|f| PageError::from_failure(shop.lang, &f))?;
    let category = query
        .category
        .as_deref()
        .and_then(|handle| categories.iter().find(|c| c.handle == handle));
    let base = shop.profile.base_currency.as_str().to_owned();
    let sort = match query.sort.as_deref() {
        Some(sort @ ("price" | "title")) => sort.to_owned(),
        _ => "newest".to_owned(),
    };
    let text = |raw: &Option<String>| {
        raw.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(100).collect::<String>())
    };
    let api_query = ProductQuery {
        q: text(&query.q),
        category: category.map(|c| c.id.to_string()),
        tag: text(&query.tag),
        min_price: whole_number(&query.min).and_then(|n| money::minor_units(n, &base)),
        max_price: whole_number(&query.max).and_then(|n| money::minor_units(n, &base)),
        in_stock: query.in_stock.is_some().then_some(true),
        sort: Some(sort.clone()),
        locale: Some(locale),
        currency: Some(currency.clone()),
        limit: Some(20),
        cursor: text(&query.cursor).filter(|c| {
            c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        }),
    };
    let page_of = visit
        .api()
        .products(visit.caller(), shop.slug(), &api_query)
        .await
        .map_err(|f| PageError::from_failure(shop.lang, &f))?;
    let more = page_of.next_cursor.as_ref().map(|cursor| {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (name, value) in [
            ("q", &api_query.q),
            ("category", &query.category),
            ("tag", &api_query.tag),
            ("min", &query.min),
            ("max", &query.max),
            ("in_stock", &query.in_stock),
        ] {
            if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
                pairs.push((name, value.clone()));
            }
        }
        pairs.push(("sort", sort.clone()));
        pairs.push(("currency", currency.clone()));
        pairs.push(("cursor", cursor.clone()));
        format!(
            "{}/products?{}",
            shop.root(),
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    });
    let searched = api_query.q.is_some();
    let title = match &api_query.q {
        Some(q) => shop
            .lang
            .t_with("list-title-search", &[("query", q.clone())]),
        None => category
            .and_then(|c| c.name.clone())
            .unwrap_or_else(|| shop.lang.t("list-title")),
    };
    let mut page = shop.frame(
        &visit,
        format!("{title} · {}", shop.profile.name),
        "/products",
    );
    // Filtered and paged lists are not pages of their own for search engines.
    page.noindex = api_query.q.is_some() || api_query.cursor.is_some() || api_query.tag.is_some();
    let body = render(
        shop.lang,
        &ListPage {
            heading: title.clone(),
            filtered: category.is_some()
                || api_query.tag.is_some()
                || api_query.min_price.is_some()
                || api_query.max_price.is_some()
                || api_query.in_stock.is_some()
                || sort != "newest",
            action: format!("{}/products", shop.root()),
            q: api_query.q.clone().unwrap_or_default(),
            categories: category_links(&shop, &categories, category.map(|c| c.handle.as_str())),
            tag: api_query.tag.clone().unwrap_or_default(),
            min: whole_number(&query.min)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            max: whole_number(&query.max)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            in_stock: api_query.in_stock.is_some(),
            sort,
            currencies: shop
                .profile
                .currencies
                .iter()
                .map(|c| c.to_string())
                .collect(),
            currency,
            base_currency: base,
            cards: page_of.items.iter().map(|p| Card::of(&shop, p)).collect(),
            more,
            searched,
            page,
        },
    )?;
    Ok(visit.html(StatusCode::OK, body, true))
}

/// A variant on the product page.
pub struct VariantView {
    pub id: String,
    pub title: String,
    pub sku: String,
    pub price: Option<String>,
    pub compare_at: Option<String>,
    pub in_stock: bool,
    pub weight: String,
}

/// A month of the season strip.
pub struct Month {
    pub name: String,
    pub harvest: bool,
}

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage {
    page: Frame,
    title: String,
    title_lang: Option<String>,
    description: Option<String>,
    variants: Vec<VariantView>,
    origin: String,
    producer: Option<String>,
    months: Vec<Month>,
    harvested: bool,
    storage: Option<String>,
    shelf_life: Option<String>,
    certifications: Vec<String>,
    images: Vec<Picture>,
    currency: String,
    currencies: Vec<String>,
    action: String,
    csrf: String,
    buyable: bool,
    /// Live group deals of the product's variants.
    deals: Vec<super::groups::DealOffer>,
    open_action: String,
    /// Why a group could not be opened, when the buyer was sent back here.
    group_problem: Option<String>,
    /// Open harvest pre-orders of the product's variants.
    preorders: Vec<super::preorders::PreorderOffer>,
    preorder_action: String,
    /// Why a pre-order could not be made, when the buyer was sent back here.
    preorder_problem: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ProductQueryParams {
    #[serde(default)]
    currency: Option<String>,
    #[serde(default)]
    problem: Option<String>,
}

/// `GET /s/{shop}/{lang}/p/{handle}`: one product, its variants and its story.
pub async fn product(
    visit: Visit,
    path: web::Path<(String, String, String)>,
    query: web::Query<ProductQueryParams>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang, handle) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let currency = shop.currency(&visit, query.currency.as_deref());
    let product = visit
        .api()
        .product(
            visit.caller(),
            shop.slug(),
            &handle,
            &shop.content_locale(),
            &currency,
        )
        .await
        .map_err(|f| PageError::from_failure(shop.lang, &f))?;
    let l = shop.lang;
    let in_currency = |m: &Option<caravan_client::Money>| {
        m.filter(|m| m.currency.as_str() == currency)
            .map(|m| money::format(m, l))
    };
    let variants: Vec<VariantView> = product
        .variants
        .iter()
        .map(|v| VariantView {
            id: v.id.to_string(),
            title: v.title.clone().unwrap_or_else(|| v.sku.clone()),
            sku: v.sku.clone(),
            price: in_currency(&v.price),
            compare_at: in_currency(&v.compare_at_price),
            in_stock: v.in_stock && in_currency(&v.price).is_some(),
            weight: l.t_with("weight-grams", &[("grams", v.weight_grams.to_string())]),
        })
        .collect();
    let title = product
        .title
        .clone()
        .unwrap_or_else(|| product.handle.clone());
    let path = format!("/p/{}", product.handle);
    let mut page = shop.frame(&visit, format!("{title} · {}", shop.profile.name), &path);
    page.og_type = "product";
    if let Some(description) = &product.description {
        page.description = description.chars().take(160).collect();
    }
    page.og_image = product
        .images
        .first()
        .map(|image| absolute_url(&visit, &image.url));
    let url = visit.absolute(&format!("{}{path}", shop.root()));
    let (deals, preorders) = futures_util::join!(
        super::groups::offers(&visit, &shop, product.id, &currency),
        super::preorders::offers(&visit, &shop, product.id, &currency),
    );
    // A variant out of stock whose next harvest is open for pre-order is offered
    // as a pre-order.
    let availability = |v: &caravan_client::Variant| {
        if v.in_stock {
            "https://schema.org/InStock"
        } else if preorders
            .iter()
            .any(|o| o.available && o.variant_id == v.id.to_string())
        {
            "https://schema.org/PreOrder"
        } else {
            "https://schema.org/OutOfStock"
        }
    };
    let offers: Vec<serde_json::Value> = product
        .variants
        .iter()
        .filter_map(|v| {
            let price = v.price.filter(|p| p.currency.as_str() == currency)?;
            Some(serde_json::json!({
                "@type": "Offer",
                "sku": v.sku,
                "price": money::decimal(price),
                "priceCurrency": price.currency.as_str(),
                "availability": availability(v),
                "url": url,
            }))
        })
        .collect();
    let mut ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": title,
        "sku": product.variants.first().map(|v| v.sku.clone()),
        "offers": offers,
        "url": url,
    });
    if let Some(description) = &product.description {
        ld["description"] = serde_json::Value::from(description.clone());
    }
    if let Some(producer) = &product.producer {
        ld["brand"] = serde_json::json!({"@type": "Brand", "name": producer});
    }
    if let Some(country) = &product.origin.country {
        ld["countryOfOrigin"] = serde_json::Value::from(country.clone());
    }
    if !product.images.is_empty() {
        ld["image"] = product
            .images
            .iter()
            .map(|i| absolute_url(&visit, &i.url))
            .collect();
    }
    page.json_ld = Some(script_json(&ld));
    let months = (1..=12)
        .map(|month| Month {
            name: l.t(&format!("month-{month}")),
            harvest: product.harvest_months.contains(&month),
        })
        .collect();
    let storage = product.storage.as_deref().map(|s| match s {
        "ambient" | "chilled" | "frozen" => l.t(&format!("storage-{s}")),
        other => other.to_owned(),
    });
    let buyable = variants.iter().any(|v| v.in_stock);
    let body = render(
        l,
        &ProductPage {
            title_lang: fallback_lang(&shop, &product.locale),
            title,
            description: product.description.clone(),
            variants,
            origin: origin_line(&product),
            producer: product.producer.clone(),
            months,
            harvested: !product.harvest_months.is_empty(),
            storage,
            shelf_life: product
                .shelf_life_days
                .map(|days| l.t_with("shelf-life-days", &[("days", days.to_string())])),
            certifications: product.certifications.clone(),
            images: product
                .images
                .iter()
                .map(|image| {
                    let alt = product.title.as_deref().unwrap_or(&product.handle);
                    Picture::of(image, alt, 640)
                })
                .collect(),
            currencies: shop
                .profile
                .currencies
                .iter()
                .map(|c| c.to_string())
                .collect(),
            action: format!("{}/cart/add", shop.root()),
            csrf: visit.csrf(),
            currency,
            buyable,
            deals,
            open_action: format!("{}/g/open", shop.root()),
            group_problem: query
                .problem
                .as_deref()
                .and_then(|p| super::groups::problem_sentence(l, p)),
            preorders,
            preorder_action: format!("{}/preorder", shop.root()),
            preorder_problem: query
                .problem
                .as_deref()
                .and_then(|p| super::preorders::problem_sentence(l, p)),
            page,
        },
    )?;
    Ok(visit.html(StatusCode::OK, body, true))
}
