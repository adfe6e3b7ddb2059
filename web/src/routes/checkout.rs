//! Checkout: contact, phone, address (a province list for China, the countries the
//! shop ships to), the shipping options of the shop's zones for that address, and
//! a note. Each rendered form carries its own `Idempotency-Key`, so a double submit
//! places one order. A line that cannot be bought sends the buyer back to the cart,
//! where its problem is shown; an outage answers the form again with everything
//! typed still in it.
//!
//! A group deal's checkout is the same form over the group's own cart (one line,
//! the deal's variant), priced at the group price: it opens a new group or joins a
//! forming one, and never touches the shop's cart.

use super::Shop;
use super::cart::{CartView, CountryChoice, Destination, ProvinceChoice, countries, provinces};
use crate::page::{Frame, PageError, Visit, render, see_other};
use crate::session::{CartRef, GroupCart};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Address, CartKey, CheckoutGroup, CheckoutRequest, Failure};
use serde::Deserialize;
use uuid::Uuid;

/// What the buyer typed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CheckoutForm {
    #[serde(default)]
    pub idempotency_key: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub recipient: String,
    #[serde(default)]
    pub street: String,
    #[serde(default)]
    pub district: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub province: String,
    #[serde(default)]
    pub postal_code: String,
    #[serde(default)]
    pub country: String,
    #[serde(default)]
    pub shipping_rate_id: String,
    #[serde(default)]
    pub note: String,
}

/// Which of the session's carts is checked out.
#[derive(Debug, Clone)]
pub enum Purchase {
    /// The shop's cart.
    Cart,
    /// A group deal's own cart.
    Group(GroupCart),
}

impl Purchase {
    /// The session's purchase of this kind in `shop`, with its cart.
    fn held(visit: &Visit, shop: &Shop, group: bool) -> Option<(Self, CartRef)> {
        if group {
            let held = visit
                .session
                .as_ref()?
                .data
                .group_carts
                .get(shop.slug())?
                .clone();
            let cart = held.cart.clone();
            Some((Self::Group(held), cart))
        } else {
            Some((Self::Cart, visit.held_cart(shop.slug())?))
        }
    }

    /// The form's address.
    fn action(&self, shop: &Shop) -> String {
        match self {
            Self::Cart => format!("{}/checkout", shop.root()),
            Self::Group(_) => format!("{}/group-checkout", shop.root()),
        }
    }

    /// Where a buyer goes when the purchase cannot be checked out: the cart, or the
    /// group's page (the product's, for a new group) saying why.
    fn back(&self, shop: &Shop, problem: &str) -> String {
        match self {
            Self::Cart => format!("{}/cart", shop.root()),
            Self::Group(held) => super::groups::back_to(shop, held, problem),
        }
    }
}

/// The group price and what it is for, on a group deal's checkout.
pub struct GroupSummary {
    pub price: String,
    pub regular: Option<String>,
    pub size: i32,
    pub hours: i32,
    /// Joining a forming group (else opening a new one).
    pub joining: bool,
}

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    page: Frame,
    action: String,
    group: Option<GroupSummary>,
    csrf: String,
    form: CheckoutForm,
    cart: CartView,
    countries: Vec<CountryChoice>,
    provinces: Vec<ProvinceChoice>,
    address: Vec<AddressField>,
    /// `(field, message)` of refused fields.
    errors: Vec<(String, String)>,
    banner: Option<String>,
}

/// An address field of the form.
pub struct AddressField {
    pub name: &'static str,
    pub label: String,
    pub autocomplete: &'static str,
    pub required: bool,
    pub value: String,
    /// Digits and Latin letters, written left to right in every language.
    pub latin: bool,
    pub error: Option<String>,
}

fn address_fields(
    lang: crate::i18n::Lang,
    form: &CheckoutForm,
    errors: &[(String, String)],
) -> Vec<AddressField> {
    [
        ("recipient", "name", true, &form.recipient, false),
        ("city", "address-level2", true, &form.city, false),
        ("district", "address-level3", false, &form.district, false),
        ("street", "street-address", true, &form.street, false),
        ("postal_code", "postal-code", false, &form.postal_code, true),
    ]
    .into_iter()
    .map(
        |(name, autocomplete, required, value, latin)| AddressField {
            name,
            label: lang.t(&format!("field-{name}")),
            autocomplete,
            required,
            value: value.clone(),
            latin,
            error: errors
                .iter()
                .find(|(f, _)| f == name)
                .map(|(_, m)| m.clone()),
        },
    )
    .collect()
}

impl CheckoutPage {
    fn error(&self, field: &str) -> Option<&str> {
        self.errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, message)| message.as_str())
    }

    fn is_chosen(&self, rate: &str) -> bool {
        self.form.shipping_rate_id == rate
            || (self.form.shipping_rate_id.is_empty()
                && self.cart.options.first().is_some_and(|o| o.rate_id == rate))
    }
}

/// The checkout form of the session's purchase (`group`: the group deal's), with
/// what the buyer typed, the refused fields and a banner.
async fn render_form(
    visit: &mut Visit,
    shop: &Shop,
    group: bool,
    mut form: CheckoutForm,
    errors: Vec<(String, String)>,
    banner: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let Some((purchase, held)) = Purchase::held(visit, shop, group) else {
        return Ok(nothing_held(shop, group));
    };
    let summary = match &purchase {
        Purchase::Cart => None,
        Purchase::Group(group_cart) => {
            match super::groups::checkout_summary(visit, shop, group_cart).await {
                Ok(summary) => Some(summary),
                Err(problem) => return Ok(see_other(&purchase.back(shop, problem))),
            }
        }
    };
    if form.country.is_empty() {
        form.country = "CN".to_owned();
    }
    let destination = Destination {
        country: Some(form.country.clone()),
        province: Some(form.province.clone()),
    }
    .parts();
    let cart = super::cart::read(visit, shop, &held, destination.as_ref()).await;
    let view = match cart {
        Ok(cart) if cart.order_id.is_none() => CartView::of(shop, &cart),
        Ok(_) | Err(Failure::Refused { .. }) => {
            return Ok(see_other(&purchase.back(shop, "unavailable")));
        }
        // Answering a form that failed in an outage: what the buyer typed is
        // shown again even when the cart cannot be read either.
        Err(failure) if status == StatusCode::SERVICE_UNAVAILABLE => {
            tracing::warn!(%failure, "cart unreadable while answering the checkout form");
            CartView::unknown()
        }
        Err(failure) => return Err(PageError::from_failure(shop.lang, &failure)),
    };
    if !view.ready && status != StatusCode::SERVICE_UNAVAILABLE {
        return Ok(see_other(&purchase.back(shop, "deal_sold_out")));
    }
    if form.idempotency_key.is_empty() || errors.is_empty() && banner.is_none() {
        form.idempotency_key = Uuid::new_v4().to_string();
    }
    let (title, path) = match &purchase {
        Purchase::Cart => ("checkout-title", "/checkout"),
        Purchase::Group(_) => ("group-checkout-title", "/group-checkout"),
    };
    let mut page = shop.frame(visit, shop.lang.t(title), path);
    page.noindex = true;
    page.htmx = true;
    let body = render(
        shop.lang,
        &CheckoutPage {
            action: purchase.action(shop),
            group: summary,
            csrf: visit.csrf(),
            countries: countries(shop, &form.country),
            provinces: provinces(shop.lang, &form.province),
            cart: view,
            address: address_fields(shop.lang, &form, &errors),
            form,
            errors,
            banner,
            page,
        },
    )?;
    Ok(visit.html(status, body, false))
}

/// Where a checkout without its cart sends the buyer.
fn nothing_held(shop: &Shop, group: bool) -> HttpResponse {
    if group {
        see_other(&format!("{}/", shop.root()))
    } else {
        see_other(&format!("{}/cart", shop.root()))
    }
}

/// `GET /s/{shop}/{lang}/checkout`: the form (`?country=&province=` chooses the
/// destination whose shipping options it lists).
pub async fn form(
    visit: Visit,
    path: web::Path<(String, String)>,
    query: web::Query<Destination>,
) -> Result<HttpResponse, PageError> {
    show_form(visit, path, query, false).await
}

/// `GET /s/{shop}/{lang}/group-checkout`: the same form for a group deal's cart.
pub async fn group_form(
    visit: Visit,
    path: web::Path<(String, String)>,
    query: web::Query<Destination>,
) -> Result<HttpResponse, PageError> {
    show_form(visit, path, query, true).await
}

async fn show_form(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    query: web::Query<Destination>,
    group: bool,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let mut form = CheckoutForm::default();
    if let Some((country, province)) = query.parts() {
        // Provinces are chosen from China's list only.
        form.province = if country == "CN" {
            province
        } else {
            String::new()
        };
        form.country = country;
    }
    if let Some(account) = visit.session.as_ref().and_then(|s| s.data.account.as_ref()) {
        form.email = account.email.clone();
        form.recipient = account.name.clone();
    }
    render_form(
        &mut visit,
        &shop,
        group,
        form,
        Vec::new(),
        None,
        StatusCode::OK,
    )
    .await
}

/// Which form field an API field path names.
fn form_field(api_field: &str) -> &str {
    api_field
        .strip_prefix("shipping_address.")
        .unwrap_or(api_field)
}

/// `POST /s/{shop}/{lang}/checkout`: places the order.
pub async fn place(
    visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<CheckoutForm>,
) -> Result<HttpResponse, PageError> {
    place_order(visit, path, form, false).await
}

/// `POST /s/{shop}/{lang}/group-checkout`: places a group deal's order, opening or
/// joining its group.
pub async fn group_place(
    visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<CheckoutForm>,
) -> Result<HttpResponse, PageError> {
    place_order(visit, path, form, true).await
}

/// The refusals of a group checkout that the group's page explains.
const GROUP_REFUSALS: [&str; 4] = [
    "group_full",
    "group_closed",
    "deal_not_live",
    "deal_sold_out",
];

async fn place_order(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<CheckoutForm>,
    group: bool,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let form = form.into_inner();
    visit.check_csrf(shop.lang, &form.csrf)?;
    let l = shop.lang;
    // The same form sent again (a double click, a reload): its order, once.
    if let Some(order) = visit
        .session
        .as_ref()
        .and_then(|session| session.data.placed_by(form.idempotency_key.trim()))
    {
        return Ok(see_other(&format!("{}/orders/{order}", shop.root())));
    }
    let Some((purchase, held)) = Purchase::held(&visit, &shop, group) else {
        return Ok(nothing_held(&shop, group));
    };
    let Ok(rate) = Uuid::parse_str(form.shipping_rate_id.trim()) else {
        let errors = vec![(
            "shipping_rate_id".to_owned(),
            l.t("checkout-choose-shipping"),
        )];
        return render_form(
            &mut visit,
            &shop,
            group,
            form,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let key = form.idempotency_key.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return render_form(
            &mut visit,
            &shop,
            group,
            form,
            Vec::new(),
            None,
            StatusCode::OK,
        )
        .await;
    }
    let trimmed = |value: &str| value.trim().to_owned();
    let request = CheckoutRequest {
        cart_id: held.id,
        email: trimmed(&form.email),
        phone: trimmed(&form.phone),
        shipping_address: Address {
            recipient: trimmed(&form.recipient),
            street: trimmed(&form.street),
            district: trimmed(&form.district),
            city: trimmed(&form.city),
            province: trimmed(&form.province),
            postal_code: trimmed(&form.postal_code),
            country: trimmed(&form.country),
        },
        shipping_rate_id: rate,
        note: Some(trimmed(&form.note)).filter(|note| !note.is_empty()),
        group: match &purchase {
            Purchase::Cart => None,
            Purchase::Group(held) => Some(match held.group_id {
                Some(group) => CheckoutGroup::GroupId(group),
                None => CheckoutGroup::DealId(held.deal_id),
            }),
        },
    };
    let bearer = visit.bearer().await;
    let placed = visit
        .api()
        .checkout(
            visit.caller().with_bearer(bearer.as_deref()),
            shop.slug(),
            CartKey {
                id: held.id,
                token: &held.token,
            },
            key,
            &request,
        )
        .await;
    match placed {
        Ok(order) => {
            let session = visit.session_mut();
            match purchase {
                Purchase::Cart => session.data.carts.remove(shop.slug()).map(|_| ()),
                Purchase::Group(_) => session.data.group_carts.remove(shop.slug()).map(|_| ()),
            };
            session.data.record_placed(key, order.id);
            if let Some(token) = order.access_token.clone() {
                session.data.orders.insert(order.id, token);
            }
            let response = see_other(&format!("{}/orders/{}", shop.root(), order.id));
            Ok(visit.reply(response).await)
        }
        Err(Failure::Refused {
            status: 422,
            problem,
        }) => {
            let errors = problem
                .errors
                .iter()
                .map(|error| {
                    let field = form_field(&error.field).to_owned();
                    let message = match field.as_str() {
                        "email" => l.t("field-email"),
                        "phone" => l.t("field-phone"),
                        "shipping_rate_id" => l.t("checkout-choose-shipping"),
                        _ => l.t("field-invalid"),
                    };
                    (field, message)
                })
                .collect::<Vec<_>>();
            let banner = errors.is_empty().then(|| l.t("checkout-refused"));
            render_form(
                &mut visit,
                &shop,
                group,
                form,
                errors,
                banner,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        // The group filled or closed, or the deal ended or sold out: the group's
        // page says so and offers a new group. Its cart is spent.
        Err(Failure::Refused {
            status: 409,
            problem,
        }) if group && GROUP_REFUSALS.contains(&problem.code.as_str()) => {
            visit.session_mut().data.group_carts.remove(shop.slug());
            let response = see_other(&purchase.back(&shop, &problem.code));
            Ok(visit.reply(response).await)
        }
        // Stock or prices changed under the buyer: the cart says which line.
        Err(Failure::Refused {
            status: 409 | 404, ..
        }) => Ok(see_other(&purchase.back(&shop, "unavailable"))),
        Err(Failure::Refused { .. }) => {
            let banner = Some(l.t("checkout-refused"));
            render_form(
                &mut visit,
                &shop,
                group,
                form,
                Vec::new(),
                banner,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Failure::Unavailable(error)) => {
            tracing::warn!(%error, "checkout failed");
            let banner = Some(l.t("checkout-unavailable"));
            render_form(
                &mut visit,
                &shop,
                group,
                form,
                Vec::new(),
                banner,
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
    }
}
