//! Products: the list with search and status, a product's form (a tab per
//! language, the produce's facts, category and tags, variants with a price per
//! currency), photos from the phone's camera, archive and delete, and the CSV
//! import (with its per-row report) and export.

use super::{Desk, Done, Posted, Section};
use crate::i18n::Lang;
use crate::money;
use crate::page::{Frame, PageError};
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Failure, ImportReport, Localized, ProductFilter, ShopCategory, ShopProduct};
use futures_util::StreamExt;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// The languages a product is written in, in the order of the form's tabs.
const LANGS: [Lang; 4] = [Lang::ZhCn, Lang::Ug, Lang::En, Lang::Ru];
/// How many variants the new product form offers.
const NEW_VARIANTS: usize = 2;
/// The largest photo the admin passes on (the catalog refuses larger ones too).
pub const PHOTO_LIMIT: usize = 15 * 1024 * 1024;
/// The largest CSV file the admin passes on.
const CSV_LIMIT: usize = 10 * 1024 * 1024;
const UNITS: [&str; 4] = ["piece", "box", "kg", "g"];

/// Text in the reader's language, else the first there is.
pub fn localized(text: &Localized, lang: Lang) -> String {
    text.get(lang.tag())
        .or_else(|| text.get("zh-CN"))
        .or_else(|| text.values().next())
        .cloned()
        .unwrap_or_default()
}

// --- the list ------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

struct ProductRow {
    id: String,
    title: String,
    status: String,
    status_label: String,
    variants: usize,
    available: i32,
    price: String,
    thumb: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/products.html")]
struct ListPage {
    page: Frame,
    products: Vec<ProductRow>,
    q: String,
    status: String,
    next: Option<String>,
}

/// `GET /admin/products`.
pub async fn list(mut desk: Desk, query: web::Query<ListQuery>) -> Result<HttpResponse, PageError> {
    let status = query
        .status
        .clone()
        .filter(|s| ["draft", "active", "archived"].contains(&s.as_str()));
    let q = query
        .q
        .as_deref()
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| q.chars().take(200).collect::<String>());
    let filter = ProductFilter {
        q: q.clone(),
        status: status.clone(),
        limit: Some(25),
        cursor: query.cursor.clone().filter(|c| !c.is_empty()),
    };
    let answer = match desk.api().shop_products(desk.caller(), &filter).await {
        Ok(answer) => answer,
        Err(Failure::Refused { status: 422, .. }) => desk
            .api()
            .shop_products(desk.caller(), &ProductFilter::default())
            .await
            .map_err(|failure| desk.failed(&failure))?,
        Err(failure) => return Err(desk.failed(&failure)),
    };
    let lang = desk.lang;
    let products = answer
        .items
        .iter()
        .map(|product| ProductRow {
            id: product.id.to_string(),
            title: localized(&product.title, lang),
            status_label: desk.t(&format!("admin-product-{}", product.status)),
            status: product.status.clone(),
            variants: product.variants.len(),
            available: product.variants.iter().map(|v| v.available).sum(),
            price: product
                .variants
                .first()
                .and_then(|v| v.prices.first())
                .map(|p| money::format(*p, lang))
                .unwrap_or_default(),
            thumb: product.images.first().map(|image| {
                image
                    .renditions
                    .first()
                    .map_or_else(|| image.url.clone(), |r| r.url.clone())
            }),
        })
        .collect();
    let mut pairs: Vec<(&str, String)> = Vec::new();
    if let Some(q) = &q {
        pairs.push(("q", q.clone()));
    }
    if let Some(status) = &status {
        pairs.push(("status", status.clone()));
    }
    let page = ListPage {
        page: desk.frame(desk.t("admin-products-title"), Section::Products),
        products,
        q: q.unwrap_or_default(),
        status: status.unwrap_or_default(),
        next: answer.next_cursor.map(|cursor| {
            pairs.push(("cursor", cursor));
            format!(
                "/admin/products?{}",
                serde_urlencoded::to_string(&pairs).unwrap_or_default()
            )
        }),
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

// --- the form -------------------------------------------------------------------

/// A language's tab of the form.
struct LangTab {
    tag: &'static str,
    name: &'static str,
    dir: &'static str,
    title: String,
    description: String,
}

/// A price field of a variant.
struct PriceField {
    currency: String,
    value: String,
}

/// A variant's fields.
struct VariantFields {
    index: usize,
    id: String,
    sku: String,
    title: String,
    unit: String,
    weight: String,
    prices: Vec<PriceField>,
    compare: String,
    stock: String,
    low: String,
    on_hand: Option<i32>,
    reserved: i32,
    available: i32,
}

struct CategoryChoice {
    id: String,
    name: String,
    chosen: bool,
}

struct Photo {
    url: String,
    alt: String,
    index: usize,
}

/// The form's values: from the product, or as the person typed them.
struct Draft {
    handle: String,
    status: String,
    tabs: Vec<LangTab>,
    category: String,
    tags: String,
    producer: String,
    country: String,
    province: String,
    place: String,
    months: Vec<u32>,
    shelf_life: String,
    storage: String,
    certifications: String,
    variants: Vec<VariantFields>,
}

#[derive(Template)]
#[template(path = "admin/product.html")]
struct FormPage {
    page: Frame,
    csrf: String,
    /// `None` for a new product.
    id: Option<String>,
    draft: Draft,
    categories: Vec<CategoryChoice>,
    units: Vec<(&'static str, String)>,
    months: Vec<(u32, String)>,
    photos: Vec<Photo>,
    base_currency: String,
    storefront: Option<String>,
    problems: Vec<String>,
    notice: Option<String>,
    photo_limit_mb: usize,
}

/// The shop's currencies (base first) and its default locale.
async fn shop_money(desk: &Desk) -> Result<(Vec<String>, String), PageError> {
    let profile = desk
        .visit
        .shop_profile(&desk.staff.shop)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let base = profile.base_currency.as_str().to_owned();
    let mut currencies = vec![base.clone()];
    currencies.extend(
        profile
            .currencies
            .iter()
            .map(|c| c.as_str().to_owned())
            .filter(|c| *c != base),
    );
    Ok((currencies, profile.default_locale))
}

fn blank_variant(index: usize, currencies: &[String]) -> VariantFields {
    VariantFields {
        index,
        id: String::new(),
        sku: String::new(),
        title: String::new(),
        unit: "piece".to_owned(),
        weight: String::new(),
        prices: currencies
            .iter()
            .map(|currency| PriceField {
                currency: currency.clone(),
                value: String::new(),
            })
            .collect(),
        compare: String::new(),
        stock: "0".to_owned(),
        low: "5".to_owned(),
        on_hand: None,
        reserved: 0,
        available: 0,
    }
}

impl Draft {
    fn blank(currencies: &[String]) -> Self {
        Self {
            handle: String::new(),
            status: "active".to_owned(),
            tabs: tabs(|_| (String::new(), String::new())),
            category: String::new(),
            tags: String::new(),
            producer: String::new(),
            country: "CN".to_owned(),
            province: String::new(),
            place: String::new(),
            months: Vec::new(),
            shelf_life: String::new(),
            storage: String::new(),
            certifications: String::new(),
            variants: (0..NEW_VARIANTS)
                .map(|index| blank_variant(index, currencies))
                .collect(),
        }
    }

    fn of(product: &ShopProduct, currencies: &[String], default_locale: &str) -> Self {
        let description = product.description.clone().unwrap_or_default();
        let origin = product.origin.clone().unwrap_or_default();
        Self {
            handle: product.handle.clone(),
            status: product.status.clone(),
            tabs: tabs(|tag| {
                (
                    product.title.get(tag).cloned().unwrap_or_default(),
                    description.get(tag).cloned().unwrap_or_default(),
                )
            }),
            category: product
                .category_ids
                .first()
                .map(Uuid::to_string)
                .unwrap_or_default(),
            tags: product.tags.join(", "),
            producer: product.producer.clone().unwrap_or_default(),
            country: origin.country.unwrap_or_default(),
            province: origin.province.unwrap_or_default(),
            place: origin.place.unwrap_or_default(),
            months: product
                .harvest_months
                .iter()
                .filter_map(|m| u32::try_from(*m).ok())
                .collect(),
            shelf_life: product
                .shelf_life_days
                .map(|d| d.to_string())
                .unwrap_or_default(),
            storage: product.storage.clone().unwrap_or_default(),
            certifications: product.certifications.join(", "),
            variants: product
                .variants
                .iter()
                .enumerate()
                .map(|(index, variant)| VariantFields {
                    index,
                    id: variant.id.to_string(),
                    sku: variant.sku.clone(),
                    title: variant
                        .title
                        .as_ref()
                        .and_then(|t| t.get(default_locale).or_else(|| t.values().next()))
                        .cloned()
                        .unwrap_or_default(),
                    unit: variant.unit.clone(),
                    weight: variant.weight_grams.to_string(),
                    prices: currencies
                        .iter()
                        .map(|currency| PriceField {
                            currency: currency.clone(),
                            value: variant
                                .prices
                                .iter()
                                .find(|p| p.currency.as_str() == currency)
                                .map(|p| money::decimal(*p))
                                .unwrap_or_default(),
                        })
                        .collect(),
                    compare: variant
                        .compare_at_price
                        .map(money::decimal)
                        .unwrap_or_default(),
                    stock: String::new(),
                    low: variant.low_stock_threshold.to_string(),
                    on_hand: Some(variant.on_hand),
                    reserved: variant.reserved,
                    available: variant.available,
                })
                .chain(std::iter::once(blank_variant(
                    product.variants.len(),
                    currencies,
                )))
                .collect(),
        }
    }
}

fn tabs(text: impl Fn(&str) -> (String, String)) -> Vec<LangTab> {
    LANGS
        .iter()
        .map(|lang| {
            let (title, description) = text(lang.tag());
            LangTab {
                tag: lang.tag(),
                name: lang.native_name(),
                dir: lang.dir(),
                title,
                description,
            }
        })
        .collect()
}

fn list_of(text: &str) -> Vec<String> {
    text.split([',', '，', '،', ';'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Draft {
    fn posted(form: &Posted, currencies: &[String], count: usize) -> Self {
        Self {
            handle: form.get("handle"),
            status: form.get("status"),
            tabs: tabs(|tag| {
                (
                    form.get(&format!("title-{tag}")),
                    form.get(&format!("description-{tag}")),
                )
            }),
            category: form.get("category"),
            tags: form.get("tags"),
            producer: form.get("producer"),
            country: form.get("origin-country"),
            province: form.get("origin-province"),
            place: form.get("origin-place"),
            months: form
                .all("month")
                .iter()
                .filter_map(|m| m.parse().ok())
                .filter(|m| (1..=12).contains(m))
                .collect(),
            shelf_life: form.get("shelf-life"),
            storage: form.get("storage"),
            certifications: form.get("certifications"),
            variants: (0..count)
                .map(|index| {
                    let v = |name: &str| form.get(&format!("v{index}-{name}"));
                    VariantFields {
                        index,
                        id: v("id"),
                        sku: v("sku"),
                        title: v("title"),
                        unit: v("unit"),
                        weight: v("weight"),
                        prices: currencies
                            .iter()
                            .map(|currency| PriceField {
                                currency: currency.clone(),
                                value: v(&format!("price-{currency}")),
                            })
                            .collect(),
                        compare: v("compare"),
                        stock: v("stock"),
                        low: v("low"),
                        on_hand: None,
                        reserved: 0,
                        available: 0,
                    }
                })
                .collect(),
        }
    }

    /// The product's fields as the API takes them, or what is wrong with them.
    fn product_fields(&self, lang: Lang) -> Result<serde_json::Map<String, Value>, Vec<String>> {
        let mut problems = Vec::new();
        let mut title = serde_json::Map::new();
        let mut description = serde_json::Map::new();
        for tab in &self.tabs {
            if !tab.title.is_empty() {
                title.insert(tab.tag.to_owned(), json!(tab.title));
            }
            if !tab.description.is_empty() {
                description.insert(tab.tag.to_owned(), json!(tab.description));
            }
        }
        if title.is_empty() {
            problems.push(lang.t("admin-product-needs-title"));
        }
        let shelf_life = match self.shelf_life.as_str() {
            "" => None,
            days => match days.parse::<i32>() {
                Ok(days) if days > 0 => Some(days),
                _ => {
                    problems.push(lang.t("admin-product-shelf-life"));
                    None
                }
            },
        };
        let text = |value: &str| (!value.is_empty()).then(|| value.to_owned());
        let mut fields = serde_json::Map::new();
        fields.insert("title".into(), Value::Object(title));
        // No description in any language is no description, not an empty one.
        let description = if description.is_empty() {
            Value::Null
        } else {
            Value::Object(description)
        };
        fields.insert("description".into(), description);
        fields.insert(
            "status".into(),
            json!(if self.status.is_empty() {
                "draft"
            } else {
                &self.status
            }),
        );
        fields.insert(
            "category_ids".into(),
            json!(
                Uuid::parse_str(&self.category)
                    .ok()
                    .into_iter()
                    .collect::<Vec<_>>()
            ),
        );
        fields.insert("tags".into(), json!(list_of(&self.tags)));
        fields.insert("producer".into(), json!(text(&self.producer)));
        fields.insert(
            "origin".into(),
            json!({"country": text(&self.country), "province": text(&self.province), "place": text(&self.place)}),
        );
        fields.insert("harvest_months".into(), json!(self.months));
        fields.insert("shelf_life_days".into(), json!(shelf_life));
        fields.insert("storage".into(), json!(text(&self.storage)));
        fields.insert(
            "certifications".into(),
            json!(list_of(&self.certifications)),
        );
        if problems.is_empty() {
            Ok(fields)
        } else {
            Err(problems)
        }
    }
}

impl VariantFields {
    fn blank(&self) -> bool {
        self.sku.is_empty() && self.prices.iter().all(|p| p.value.is_empty())
    }

    /// The variant as the API takes it (`new`: with its SKU and first stock).
    fn to_api(&self, lang: Lang, default_locale: &str, new: bool) -> Result<Value, Vec<String>> {
        let mut problems = Vec::new();
        let mut prices = Vec::new();
        for price in &self.prices {
            if price.value.is_empty() {
                continue;
            }
            match money::parse_decimal(&price.value, &price.currency) {
                Some(amount) if amount > 0 => {
                    prices.push(json!({"amount": amount, "currency": price.currency}))
                }
                _ => problems.push(lang.t_with(
                    "admin-price-unreadable",
                    &[("currency", price.currency.clone())],
                )),
            }
        }
        if prices.is_empty() && problems.is_empty() {
            problems.push(lang.t("admin-price-needed"));
        }
        let base = self
            .prices
            .first()
            .map(|p| p.currency.clone())
            .unwrap_or_default();
        let compare = match self.compare.as_str() {
            "" => Value::Null,
            text => match money::parse_decimal(text, &base) {
                Some(amount) if amount > 0 => json!({"amount": amount, "currency": base}),
                _ => {
                    problems.push(lang.t("admin-compare-unreadable"));
                    Value::Null
                }
            },
        };
        let number = |text: &str, key: &str, problems: &mut Vec<String>| match text {
            "" => Some(0),
            text => text.parse::<i32>().ok().filter(|n| *n >= 0).or_else(|| {
                problems.push(lang.t(key));
                None
            }),
        };
        let weight = number(&self.weight, "admin-weight-unreadable", &mut problems);
        let low = number(&self.low, "admin-low-unreadable", &mut problems);
        let stock = number(&self.stock, "admin-stock-unreadable", &mut problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        let title = if self.title.is_empty() {
            Value::Null
        } else {
            json!({default_locale: self.title})
        };
        let unit = if UNITS.contains(&self.unit.as_str()) {
            self.unit.as_str()
        } else {
            "piece"
        };
        let mut variant = json!({
            "title": title, "unit": unit, "weight_grams": weight,
            "prices": prices, "compare_at_price": compare, "low_stock_threshold": low,
        });
        if new && let Value::Object(fields) = &mut variant {
            fields.insert("sku".into(), json!(self.sku));
            fields.insert("stock".into(), json!(stock));
            fields.insert("track_stock".into(), json!(true));
            if fields.get("title").is_some_and(Value::is_null) {
                fields.remove("title");
            }
        }
        Ok(variant)
    }
}

async fn categories(desk: &Desk) -> Vec<ShopCategory> {
    desk.api()
        .shop_categories(desk.caller())
        .await
        .unwrap_or_default()
}

#[allow(clippy::too_many_arguments)]
async fn form_page(
    desk: &mut Desk,
    product: Option<&ShopProduct>,
    draft: Draft,
    currencies: &[String],
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let lang = desk.lang;
    let title = match product {
        Some(product) => localized(&product.title, lang),
        None => desk.t("admin-product-new"),
    };
    let categories = categories(desk)
        .await
        .into_iter()
        .map(|category| CategoryChoice {
            chosen: draft.category == category.id.to_string(),
            id: category.id.to_string(),
            name: localized(&category.name, lang),
        })
        .collect();
    let page = FormPage {
        page: desk.frame(title, Section::Products),
        csrf: desk.visit.csrf(),
        id: product.map(|p| p.id.to_string()),
        categories,
        units: UNITS
            .iter()
            .map(|unit| (*unit, desk.t(&format!("admin-unit-{unit}"))))
            .collect(),
        months: (1..=12)
            .map(|m| (m, desk.t(&format!("admin-month-{m}"))))
            .collect(),
        photos: product
            .map(|p| {
                p.images
                    .iter()
                    .enumerate()
                    .map(|(index, image)| Photo {
                        url: image
                            .renditions
                            .first()
                            .map_or_else(|| image.url.clone(), |r| r.url.clone()),
                        alt: image.alt.clone().unwrap_or_default(),
                        index,
                    })
                    .collect()
            })
            .unwrap_or_default(),
        base_currency: currencies.first().cloned().unwrap_or_default(),
        storefront: product
            .filter(|p| p.status == "active")
            .map(|p| format!("/s/{}/{}/p/{}", desk.staff.shop, lang.tag(), p.handle)),
        problems,
        notice,
        photo_limit_mb: PHOTO_LIMIT / (1024 * 1024),
        draft,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/products/new`.
pub async fn new(mut desk: Desk) -> Result<HttpResponse, PageError> {
    let (currencies, _) = shop_money(&desk).await?;
    let draft = Draft::blank(&currencies);
    form_page(
        &mut desk,
        None,
        draft,
        &currencies,
        Vec::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// A handle for a product from its title: its Latin letters and digits, else a
/// random one (the API refuses a taken one; the person may change it).
fn handle_for(draft: &Draft) -> String {
    let source = draft
        .tabs
        .iter()
        .find(|tab| tab.tag == "en" && !tab.title.is_empty())
        .map(|tab| tab.title.to_lowercase())
        .unwrap_or_default();
    let mut handle = String::new();
    for c in source.chars() {
        if c.is_ascii_alphanumeric() {
            handle.push(c);
        } else if !handle.ends_with('-') && !handle.is_empty() {
            handle.push('-');
        }
    }
    let handle = handle
        .trim_matches('-')
        .chars()
        .take(60)
        .collect::<String>();
    let suffix = &Uuid::new_v4().simple().to_string()[..6];
    if handle.is_empty() {
        format!("p-{suffix}")
    } else {
        format!("{handle}-{suffix}")
    }
}

/// `POST /admin/products`: creates the product with its variants.
pub async fn create(
    mut desk: Desk,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let lang = desk.lang;
    let (currencies, default_locale) = shop_money(&desk).await?;
    let draft = Draft::posted(&form, &currencies, NEW_VARIANTS);
    let mut problems = Vec::new();
    let fields = draft.product_fields(lang).unwrap_or_else(|found| {
        problems.extend(found);
        serde_json::Map::new()
    });
    let mut variants = Vec::new();
    for variant in draft.variants.iter().filter(|v| v.index == 0 || !v.blank()) {
        if variant.sku.is_empty() {
            problems.push(lang.t("admin-sku-needed"));
        }
        match variant.to_api(lang, &default_locale, true) {
            Ok(value) => variants.push(value),
            Err(found) => problems.extend(found),
        }
    }
    if !problems.is_empty() {
        return form_page(
            &mut desk,
            None,
            draft,
            &currencies,
            problems,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let mut body = fields;
    let handle = if draft.handle.is_empty() {
        handle_for(&draft)
    } else {
        draft.handle.clone()
    };
    body.insert("handle".into(), json!(handle));
    body.insert("images".into(), json!([]));
    body.insert("variants".into(), Value::Array(variants));
    match desk
        .api()
        .create_product(desk.caller(), &Value::Object(body))
        .await
    {
        Ok(product) => Ok(desk
            .redirect(&format!("/admin/products/{}?done=created", product.id))
            .await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            form_page(
                &mut desk,
                None,
                draft,
                &currencies,
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

const DONE: [(&str, &str); 5] = [
    ("created", "admin-product-created"),
    ("saved", "admin-product-saved"),
    ("photo", "admin-photo-added"),
    ("photo-removed", "admin-photo-removed"),
    ("archived", "admin-product-archived-done"),
];

async fn product_of(desk: &Desk, id: &str) -> Result<ShopProduct, PageError> {
    let id = desk.id(id)?;
    desk.api()
        .shop_product(desk.caller(), id)
        .await
        .map_err(|failure| desk.failed(&failure))
}

/// `GET /admin/products/{id}`: another shop's product is a 404 page.
pub async fn edit(
    mut desk: Desk,
    id: web::Path<String>,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let product = product_of(&desk, &id).await?;
    let (currencies, default_locale) = shop_money(&desk).await?;
    let draft = Draft::of(&product, &currencies, &default_locale);
    let notice = query.notice(desk.lang, &DONE);
    form_page(
        &mut desk,
        Some(&product),
        draft,
        &currencies,
        Vec::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// `POST /admin/products/{id}`: saves the product, then each variant.
pub async fn save(
    mut desk: Desk,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let lang = desk.lang;
    let product = product_of(&desk, &id).await?;
    let (currencies, default_locale) = shop_money(&desk).await?;
    // The existing variants, then the blank one that adds a variant when filled in.
    let draft = Draft::posted(&form, &currencies, product.variants.len() + 1);
    let mut problems = Vec::new();
    let mut fields = draft.product_fields(lang).unwrap_or_else(|found| {
        problems.extend(found);
        serde_json::Map::new()
    });
    let mut variants = Vec::new();
    for (variant, fields) in product.variants.iter().zip(&draft.variants) {
        match fields.to_api(lang, &default_locale, false) {
            Ok(value) => variants.push((variant.id, value)),
            Err(found) => problems.extend(found),
        }
    }
    let mut added = None;
    if let Some(extra) = draft
        .variants
        .get(product.variants.len())
        .filter(|v| !v.blank())
    {
        if extra.sku.is_empty() {
            problems.push(lang.t("admin-sku-needed"));
        }
        match extra.to_api(lang, &default_locale, true) {
            Ok(value) => added = Some(value),
            Err(found) => problems.extend(found),
        }
    }
    if !problems.is_empty() {
        return form_page(
            &mut desk,
            Some(&product),
            draft,
            &currencies,
            problems,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    if !draft.handle.is_empty() {
        fields.insert("handle".into(), json!(draft.handle));
    }
    let caller = desk.caller();
    let mut outcome = desk
        .api()
        .update_product(caller, product.id, &Value::Object(fields))
        .await
        .map(drop);
    for (variant, body) in &variants {
        if outcome.is_err() {
            break;
        }
        outcome = desk
            .api()
            .update_variant(caller, product.id, *variant, body)
            .await
            .map(drop);
    }
    if let (Ok(()), Some(body)) = (&outcome, &added) {
        outcome = desk
            .api()
            .add_variant(caller, product.id, body)
            .await
            .map(drop);
    }
    match outcome {
        Ok(()) => Ok(desk
            .redirect(&format!("/admin/products/{}?done=saved", product.id))
            .await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            form_page(
                &mut desk,
                Some(&product),
                draft,
                &currencies,
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// A file and the fields of a `multipart/form-data` form; a file over `limit`
/// bytes is not read further (`too_large`).
pub struct Upload {
    pub fields: Vec<(String, String)>,
    pub file: Vec<u8>,
    pub too_large: bool,
}

pub async fn read_upload(mut multipart: Multipart, file_field: &str, limit: usize) -> Upload {
    let mut upload = Upload {
        fields: Vec::new(),
        file: Vec::new(),
        too_large: false,
    };
    while let Some(Ok(mut field)) = multipart.next().await {
        let name = field.name().unwrap_or_default().to_owned();
        if name == file_field {
            while let Some(chunk) = field.next().await {
                let Ok(chunk) = chunk else { break };
                if upload.file.len() + chunk.len() > limit {
                    upload.too_large = true;
                    upload.file.clear();
                    // The rest is read and dropped so the browser sees our answer.
                    while field.next().await.is_some() {}
                    break;
                }
                upload.file.extend_from_slice(&chunk);
            }
        } else {
            let mut value = Vec::new();
            while let Some(Ok(chunk)) = field.next().await {
                if value.len() + chunk.len() > 64 * 1024 {
                    break;
                }
                value.extend_from_slice(&chunk);
            }
            upload
                .fields
                .push((name, String::from_utf8_lossy(&value).into_owned()));
        }
    }
    upload
}

/// The photo an upload form sent, stored by the catalog (which checks it by its
/// content, strips what the camera recorded and makes its sizes): the upload, or
/// the sentences saying why not and the status to show them with. A 404 or an
/// outage is an error page.
pub async fn store_photo(
    desk: &Desk,
    upload: Upload,
) -> Result<Result<caravan_client::Media, (Vec<String>, StatusCode)>, PageError> {
    let lang = desk.lang;
    if upload.too_large {
        let megabytes = (PHOTO_LIMIT / (1024 * 1024)).to_string();
        let problem = lang.t_with("admin-photo-too-large", &[("total", megabytes)]);
        return Ok(Err((vec![problem], StatusCode::PAYLOAD_TOO_LARGE)));
    }
    if upload.file.is_empty() {
        let problem = lang.t("admin-photo-missing");
        return Ok(Err((vec![problem], StatusCode::UNPROCESSABLE_ENTITY)));
    }
    match desk.api().upload_image(desk.caller(), upload.file).await {
        Ok(media) => Ok(Ok(media)),
        Err(failure) => Ok(Err((desk.refused(&failure)?, Desk::status_of(&failure)))),
    }
}

/// `POST /admin/products/{id}/photos`: a photo from the phone's camera or files;
/// the product then shows it.
pub async fn add_photo(
    mut desk: Desk,
    id: web::Path<String>,
    multipart: Multipart,
) -> Result<HttpResponse, PageError> {
    let mut upload = read_upload(multipart, "photo", PHOTO_LIMIT).await;
    let form = Posted(std::mem::take(&mut upload.fields));
    desk.check_csrf(&form.get("csrf"))?;
    let product = product_of(&desk, &id).await?;
    let (problems, status) = match store_photo(&desk, upload).await? {
        Ok(media) => {
            let mut images: Vec<Value> = product.images.iter().map(image_ref).collect();
            let alt = Some(form.get("alt"))
                .filter(|alt| !alt.is_empty())
                .unwrap_or_else(|| localized(&product.title, desk.lang));
            images.push(json!({"media_id": media.id, "alt": alt}));
            let body = json!({"images": images});
            match desk
                .api()
                .update_product(desk.caller(), product.id, &body)
                .await
            {
                Ok(_) => {
                    let done = format!("/admin/products/{}?done=photo", product.id);
                    return Ok(desk.redirect(&done).await);
                }
                Err(failure) => (desk.refused(&failure)?, Desk::status_of(&failure)),
            }
        }
        Err(refusal) => refusal,
    };
    let (currencies, default_locale) = shop_money(&desk).await?;
    let draft = Draft::of(&product, &currencies, &default_locale);
    form_page(
        &mut desk,
        Some(&product),
        draft,
        &currencies,
        problems,
        None,
        status,
    )
    .await
}

/// An image as the product's `images` takes it back.
fn image_ref(image: &caravan_client::ShopImage) -> Value {
    match image.media_id {
        Some(id) => json!({"media_id": id, "alt": image.alt}),
        None => json!({"url": image.url, "alt": image.alt}),
    }
}

/// `POST /admin/products/{id}/{action}`: `archive`, `delete` (a draft) or
/// `remove-photo`.
pub async fn act(
    mut desk: Desk,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let (id, action) = path.into_inner();
    let product = product_of(&desk, &id).await?;
    let caller = desk.caller();
    let (outcome, done) = match action.as_str() {
        "archive" => (
            desk.api()
                .archive_product(caller, product.id)
                .await
                .map(drop),
            format!("/admin/products/{}?done=archived", product.id),
        ),
        "delete" => (
            desk.api().delete_product(caller, product.id).await,
            "/admin/products?done=deleted".to_owned(),
        ),
        "remove-photo" => {
            let index: usize = form.get("index").parse().unwrap_or(usize::MAX);
            let images: Vec<Value> = product
                .images
                .iter()
                .enumerate()
                .filter(|(at, _)| *at != index)
                .map(|(_, image)| image_ref(image))
                .collect();
            (
                desk.api()
                    .update_product(caller, product.id, &json!({"images": images}))
                    .await
                    .map(drop),
                format!("/admin/products/{}?done=photo-removed", product.id),
            )
        }
        _ => return Err(PageError::not_found(desk.lang)),
    };
    match outcome {
        Ok(()) => Ok(desk.redirect(&done).await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            let (currencies, default_locale) = shop_money(&desk).await?;
            let draft = Draft::of(&product, &currencies, &default_locale);
            form_page(
                &mut desk,
                Some(&product),
                draft,
                &currencies,
                problems,
                None,
                Desk::status_of(&failure),
            )
            .await
        }
    }
}

// --- CSV ------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "admin/import.html")]
struct ImportPage {
    page: Frame,
    csrf: String,
    report: Option<ImportReport>,
    problems: Vec<String>,
}

impl ImportPage {
    fn outcome_label(&self, outcome: &str) -> String {
        match outcome {
            "created" | "updated" => self.page.t(&format!("admin-import-outcome-{outcome}")),
            _ => self.page.t("admin-import-outcome-failed"),
        }
    }

    fn row_problems(&self, row: &caravan_client::ImportRow) -> String {
        let failure = Failure::Refused {
            status: 422,
            problem: caravan_client::Problem {
                errors: row.errors.clone(),
                ..caravan_client::Problem::default()
            },
        };
        super::refusal(self.page.lang, &failure).join(" ")
    }
}

/// `GET /admin/products/import`.
pub async fn import_form(mut desk: Desk) -> Result<HttpResponse, PageError> {
    let page = ImportPage {
        page: desk.frame(desk.t("admin-import-title"), Section::Products),
        csrf: desk.visit.csrf(),
        report: None,
        problems: Vec::new(),
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

/// `POST /admin/products/import`: the file goes to the catalog as it is; the
/// answer is the report of every row (good rows are created, bad ones named).
pub async fn import(mut desk: Desk, multipart: Multipart) -> Result<HttpResponse, PageError> {
    let upload = read_upload(multipart, "file", CSV_LIMIT).await;
    let form = Posted(upload.fields);
    desk.check_csrf(&form.get("csrf"))?;
    let lang = desk.lang;
    let (report, problems, status) = if upload.too_large {
        (
            None,
            vec![lang.t("admin-import-too-large")],
            StatusCode::PAYLOAD_TOO_LARGE,
        )
    } else if upload.file.is_empty() {
        (
            None,
            vec![lang.t("admin-import-missing")],
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    } else {
        match desk.api().import_products(desk.caller(), upload.file).await {
            Ok(report) => (Some(report), Vec::new(), StatusCode::OK),
            Err(failure) => {
                let problems = desk.refused(&failure)?;
                (None, problems, Desk::status_of(&failure))
            }
        }
    };
    let page = ImportPage {
        page: desk.frame(desk.t("admin-import-title"), Section::Products),
        csrf: desk.visit.csrf(),
        report,
        problems,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/products/export.csv`.
pub async fn export(desk: Desk) -> Result<HttpResponse, PageError> {
    let file = desk
        .api()
        .export_products(desk.caller())
        .await
        .map_err(|failure| desk.failed(&failure))?;
    Ok(super::orders::download(file, "products.csv"))
}
