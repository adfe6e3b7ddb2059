//! How the shop is arranged: its categories (a tree) and its shipping zones
//! (countries, provinces, weight bands and their prices, a free-shipping
//! threshold).

use super::products::localized;
use super::{Desk, Done, Posted, Section};
use crate::i18n::Lang;
use crate::money;
use crate::page::{Frame, PageError};
use crate::routes::cart::{PROVINCES, ProvinceChoice, provinces};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Failure, ShippingZone, ShopCategory};
use serde_json::{Value, json};
use uuid::Uuid;

/// How many weight bands the zone form offers.
const BANDS: usize = 4;

struct CategoryRow {
    id: String,
    name: String,
    handle: String,
    depth: usize,
}

/// The categories in tree order: each after its parent, indented by depth.
fn tree(categories: &[ShopCategory], lang: Lang) -> Vec<CategoryRow> {
    fn walk(
        all: &[ShopCategory],
        parent: Option<Uuid>,
        depth: usize,
        lang: Lang,
        out: &mut Vec<CategoryRow>,
    ) {
        let mut children: Vec<&ShopCategory> =
            all.iter().filter(|c| c.parent_id == parent).collect();
        children.sort_by_key(|c| (c.position, c.handle.clone()));
        for child in children {
            out.push(CategoryRow {
                id: child.id.to_string(),
                name: localized(&child.name, lang),
                handle: child.handle.clone(),
                depth,
            });
            if depth < 8 {
                walk(all, Some(child.id), depth + 1, lang, out);
            }
        }
    }
    let mut out = Vec::with_capacity(categories.len());
    walk(categories, None, 0, lang, &mut out);
    out
}

/// The category form: a new category, or the one being changed.
struct CategoryForm {
    /// Where the form goes: `/admin/categories` or `/admin/categories/{id}`.
    action: String,
    editing: Option<String>,
    handle: String,
    /// `(tag, language's name, direction, name in it)`.
    names: Vec<(&'static str, &'static str, &'static str, String)>,
    parent: String,
    position: i32,
}

impl CategoryForm {
    fn new(category: Option<&ShopCategory>) -> Self {
        Self {
            action: category.map_or_else(
                || "/admin/categories".to_owned(),
                |c| format!("/admin/categories/{}", c.id),
            ),
            editing: category.map(|c| c.id.to_string()),
            handle: category.map(|c| c.handle.clone()).unwrap_or_default(),
            names: Lang::ALL
                .iter()
                .map(|l| {
                    let name = category
                        .and_then(|c| c.name.get(l.tag()).cloned())
                        .unwrap_or_default();
                    (l.tag(), l.native_name(), l.dir(), name)
                })
                .collect(),
            parent: category
                .and_then(|c| c.parent_id)
                .map(|p| p.to_string())
                .unwrap_or_default(),
            position: category.map_or(0, |c| c.position),
        }
    }

    /// What the person typed, to show again with what is wrong.
    fn posted(form: &Posted, editing: Option<Uuid>) -> Self {
        Self {
            action: editing.map_or_else(
                || "/admin/categories".to_owned(),
                |id| format!("/admin/categories/{id}"),
            ),
            editing: editing.map(|id| id.to_string()),
            handle: form.get("handle"),
            names: Lang::ALL
                .iter()
                .map(|l| {
                    (
                        l.tag(),
                        l.native_name(),
                        l.dir(),
                        form.get(&format!("name-{}", l.tag())),
                    )
                })
                .collect(),
            parent: form.get("parent"),
            position: form.get("position").parse().unwrap_or(0),
        }
    }

    fn to_api(&self) -> Value {
        let name: serde_json::Map<String, Value> = self
            .names
            .iter()
            .filter(|(_, _, _, name)| !name.is_empty())
            .map(|(tag, _, _, name)| ((*tag).to_owned(), json!(name)))
            .collect();
        json!({
            "handle": self.handle,
            "name": name,
            "parent_id": Uuid::parse_str(&self.parent).ok(),
            "position": self.position,
        })
    }
}

#[derive(Template)]
#[template(path = "admin/categories.html")]
struct CategoriesPage {
    page: Frame,
    csrf: String,
    rows: Vec<CategoryRow>,
    form: CategoryForm,
    problems: Vec<String>,
    notice: Option<String>,
}

impl CategoriesPage {
    fn indent(&self, depth: &usize) -> String {
        "— ".repeat(*depth)
    }
}

async fn categories_page(
    desk: &mut Desk,
    form: Option<CategoryForm>,
    editing: Option<Uuid>,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let categories = desk
        .api()
        .shop_categories(desk.caller())
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let form = match (form, editing) {
        (Some(form), _) => form,
        (None, Some(id)) => CategoryForm::new(Some(
            categories
                .iter()
                .find(|c| c.id == id)
                .ok_or_else(|| PageError::not_found(desk.lang))?,
        )),
        (None, None) => CategoryForm::new(None),
    };
    let page = CategoriesPage {
        page: desk.frame(desk.t("admin-categories-title"), Section::More),
        csrf: desk.visit.csrf(),
        rows: tree(&categories, desk.lang),
        form,
        problems,
        notice,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/categories`: the tree and a form for a new category.
pub async fn categories(
    mut desk: Desk,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let notice = query.notice(
        desk.lang,
        &[
            ("created", "admin-category-created"),
            ("saved", "admin-product-saved"),
            ("deleted", "admin-category-deleted"),
        ],
    );
    categories_page(&mut desk, None, None, Vec::new(), notice, StatusCode::OK).await
}

/// `GET /admin/categories/{id}`: the tree and the form for this category.
pub async fn category(mut desk: Desk, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    categories_page(&mut desk, None, Some(id), Vec::new(), None, StatusCode::OK).await
}

/// The storefront's categories were changed here: its pages see it at once.
fn forget_categories(desk: &Desk) {
    let key = format!("{}\u{0}", desk.staff.shop);
    for lang in Lang::ALL {
        desk.visit
            .web
            .categories
            .forget(&format!("{key}{}", lang.tag()));
    }
}

async fn save_category(
    mut desk: Desk,
    id: Option<Uuid>,
    form: Vec<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let form = Posted(form);
    desk.check_csrf(&form.get("csrf"))?;
    let typed = CategoryForm::posted(&form, id);
    let body = typed.to_api();
    let outcome = match id {
        Some(id) => desk.api().update_category(desk.caller(), id, &body).await,
        None => desk.api().create_category(desk.caller(), &body).await,
    };
    match outcome {
        Ok(_) => {
            forget_categories(&desk);
            let done = if id.is_some() { "saved" } else { "created" };
            Ok(desk
                .redirect(&format!("/admin/categories?done={done}"))
                .await)
        }
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            categories_page(
                &mut desk,
                Some(typed),
                id,
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /admin/categories`: a new category.
pub async fn create_category(
    desk: Desk,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    save_category(desk, None, form.into_inner()).await
}

/// `POST /admin/categories/{id}`: the category as the form says.
pub async fn update_category(
    desk: Desk,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    save_category(desk, Some(id), form.into_inner()).await
}

/// `POST /admin/categories/{id}/delete`: a category without subcategories goes;
/// its products stay.
pub async fn delete_category(
    mut desk: Desk,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    desk.check_csrf(&Posted(form.into_inner()).get("csrf"))?;
    let id = desk.id(&id)?;
    match desk.api().delete_category(desk.caller(), id).await {
        Ok(()) => {
            forget_categories(&desk);
            Ok(desk.redirect("/admin/categories?done=deleted").await)
        }
        Err(Failure::Refused { status: 409, .. }) => {
            let problem = desk.t("admin-category-has-children");
            categories_page(
                &mut desk,
                None,
                Some(id),
                vec![problem],
                None,
                StatusCode::CONFLICT,
            )
            .await
        }
        Err(failure) => Err(desk.failed(&failure)),
    }
}

struct BandFields {
    index: usize,
    name: String,
    min: String,
    max: String,
    price: String,
}

struct ZoneRow {
    id: String,
    name: String,
    places: String,
    rates: String,
}

#[derive(Template)]
#[template(path = "admin/shipping.html")]
struct ShippingPage {
    page: Frame,
    csrf: String,
    zones: Vec<ZoneRow>,
    /// The zone being edited (`None`: a new one).
    editing: Option<String>,
    name: String,
    countries: String,
    provinces: Vec<ProvinceChoice>,
    currency: String,
    currencies: Vec<String>,
    free: String,
    bands: Vec<BandFields>,
    problems: Vec<String>,
    notice: Option<String>,
}

struct ZoneForm {
    name: String,
    countries: String,
    provinces: Vec<String>,
    currency: String,
    free: String,
    bands: Vec<BandFields>,
}

impl ZoneForm {
    fn blank(currency: &str) -> Self {
        Self {
            name: String::new(),
            countries: "CN".to_owned(),
            provinces: Vec::new(),
            currency: currency.to_owned(),
            free: String::new(),
            bands: (0..BANDS)
                .map(|index| BandFields {
                    index,
                    name: String::new(),
                    min: if index == 0 {
                        "0".to_owned()
                    } else {
                        String::new()
                    },
                    max: String::new(),
                    price: String::new(),
                })
                .collect(),
        }
    }

    fn of(zone: &ShippingZone) -> Self {
        Self {
            name: zone.name.clone(),
            countries: zone.countries.join(", "),
            provinces: zone.provinces.clone(),
            currency: zone.currency.clone(),
            free: zone
                .free_shipping_threshold
                .map(money::decimal)
                .unwrap_or_default(),
            bands: (0..BANDS.max(zone.rates.len()))
                .map(|index| {
                    let rate = zone.rates.get(index);
                    BandFields {
                        index,
                        name: rate.map(|r| r.name.clone()).unwrap_or_default(),
                        min: rate
                            .map(|r| r.min_weight_grams.to_string())
                            .unwrap_or_default(),
                        max: rate
                            .and_then(|r| r.max_weight_grams)
                            .map(|g| g.to_string())
                            .unwrap_or_default(),
                        price: rate.map(|r| money::decimal(r.price)).unwrap_or_default(),
                    }
                })
                .collect(),
        }
    }

    fn posted(form: &Posted) -> Self {
        let count = (0..16)
            .take_while(|i| form.0.iter().any(|(k, _)| k == &format!("band{i}-name")))
            .count();
        Self {
            name: form.get("name"),
            countries: form.get("countries"),
            provinces: form.all("province"),
            currency: form.get("currency"),
            free: form.get("free"),
            bands: (0..count)
                .map(|index| BandFields {
                    index,
                    name: form.get(&format!("band{index}-name")),
                    min: form.get(&format!("band{index}-min")),
                    max: form.get(&format!("band{index}-max")),
                    price: form.get(&format!("band{index}-price")),
                })
                .collect(),
        }
    }

    /// The zone as the API takes it, or what is wrong with the form.
    fn to_api(&self, lang: Lang) -> Result<Value, Vec<String>> {
        let mut problems = Vec::new();
        let mut rates = Vec::new();
        for band in &self.bands {
            if band.name.is_empty() && band.price.is_empty() {
                continue;
            }
            let min = band.min.parse::<i32>().ok().filter(|g| *g >= 0);
            let max = match band.max.as_str() {
                "" => Some(None),
                text => text.parse::<i32>().ok().filter(|g| *g > 0).map(Some),
            };
            let price = money::parse_decimal(&band.price, &self.currency);
            match (min, max, price) {
                (Some(min), Some(max), Some(price)) => rates.push(json!({
                    "name": band.name, "min_weight_grams": min, "max_weight_grams": max,
                    "price": {"amount": price, "currency": self.currency},
                })),
                _ => problems.push(lang.t_with(
                    "admin-band-unreadable",
                    &[("total", (band.index + 1).to_string())],
                )),
            }
        }
        if rates.is_empty() && problems.is_empty() {
            problems.push(lang.t("admin-band-needed"));
        }
        let free = match self.free.as_str() {
            "" => Value::Null,
            text => match money::parse_decimal(text, &self.currency) {
                Some(amount) => json!({"amount": amount, "currency": self.currency}),
                None => {
                    problems.push(lang.t("admin-free-unreadable"));
                    Value::Null
                }
            },
        };
        let countries: Vec<String> = self
            .countries
            .split([',', '，', '،', ' '])
            .map(|c| c.trim().to_uppercase())
            .filter(|c| !c.is_empty())
            .collect();
        if !problems.is_empty() {
            return Err(problems);
        }
        let provinces: Vec<&String> = self
            .provinces
            .iter()
            .filter(|p| PROVINCES.iter().any(|(official, _)| official == p))
            .collect();
        Ok(json!({
            "name": self.name, "countries": countries, "provinces": provinces,
            "free_shipping_threshold": free, "rates": rates,
        }))
    }
}

async fn shipping_page(
    desk: &mut Desk,
    editing: Option<Uuid>,
    form: Option<ZoneForm>,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = desk.caller();
    let zones = desk
        .api()
        .shipping_zones(caller)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let profile = desk
        .visit
        .shop_profile(&desk.staff.shop)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let base = profile.base_currency.as_str().to_owned();
    let form = match (form, editing) {
        (Some(form), _) => form,
        (None, Some(id)) => zones
            .iter()
            .find(|zone| zone.id == id)
            .map(ZoneForm::of)
            .ok_or_else(|| PageError::not_found(desk.lang))?,
        (None, None) => ZoneForm::blank(&base),
    };
    let lang = desk.lang;
    let mut choices = provinces(lang, "");
    for choice in &mut choices {
        choice.selected = form.provinces.contains(&choice.value);
    }
    let page = ShippingPage {
        page: desk.frame(desk.t("admin-shipping-title"), Section::More),
        csrf: desk.visit.csrf(),
        zones: zones
            .iter()
            .map(|zone| ZoneRow {
                id: zone.id.to_string(),
                name: zone.name.clone(),
                places: zone
                    .countries
                    .iter()
                    .chain(zone.provinces.iter())
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(lang.list_separator()),
                rates: zone
                    .rates
                    .iter()
                    .map(|r| format!("{} {}", r.name, money::format(r.price, lang)))
                    .collect::<Vec<_>>()
                    .join(lang.list_separator()),
            })
            .collect(),
        editing: editing.map(|id| id.to_string()),
        name: form.name,
        countries: form.countries,
        provinces: choices,
        currency: form.currency,
        currencies: profile
            .currencies
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        free: form.free,
        bands: form.bands,
        problems,
        notice,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/shipping`: the zones and a form for a new one.
pub async fn shipping(mut desk: Desk, query: web::Query<Done>) -> Result<HttpResponse, PageError> {
    let notice = query.notice(
        desk.lang,
        &[
            ("saved", "admin-product-saved"),
            ("deleted", "admin-zone-deleted"),
        ],
    );
    shipping_page(&mut desk, None, None, Vec::new(), notice, StatusCode::OK).await
}

/// `GET /admin/shipping/{id}`: the zones and the form for this one.
pub async fn zone(mut desk: Desk, id: web::Path<String>) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    shipping_page(&mut desk, Some(id), None, Vec::new(), None, StatusCode::OK).await
}

async fn save(
    mut desk: Desk,
    id: Option<Uuid>,
    form: Vec<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let form = Posted(form);
    desk.check_csrf(&form.get("csrf"))?;
    let zone = ZoneForm::posted(&form);
    let body = match zone.to_api(desk.lang) {
        Ok(body) => body,
        Err(problems) => {
            return shipping_page(
                &mut desk,
                id,
                Some(zone),
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    match desk
        .api()
        .save_shipping_zone(desk.caller(), id, &body)
        .await
    {
        Ok(_) => Ok(desk.redirect("/admin/shipping?done=saved").await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            shipping_page(
                &mut desk,
                id,
                Some(zone),
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /admin/shipping`: a new zone.
pub async fn create_zone(
    desk: Desk,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    save(desk, None, form.into_inner()).await
}

/// `POST /admin/shipping/{id}`: the zone as the form says.
pub async fn update_zone(
    desk: Desk,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    save(desk, Some(id), form.into_inner()).await
}

/// `POST /admin/shipping/{id}/delete`.
pub async fn delete_zone(
    mut desk: Desk,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    desk.check_csrf(&Posted(form.into_inner()).get("csrf"))?;
    let id = desk.id(&id)?;
    desk.api()
        .delete_shipping_zone(desk.caller(), id)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    Ok(desk.redirect("/admin/shipping?done=deleted").await)
}
