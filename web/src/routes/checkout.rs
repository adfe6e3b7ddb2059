//! Checkout: contact, phone, address (a province list for China, the countries the
//! shop ships to), the shipping options of the shop's zones for that address, and
//! a note. Each rendered form carries its own `Idempotency-Key`, so a double submit
//! places one order. A line that cannot be bought sends the buyer back to the cart,
//! where its problem is shown; an outage answers the form again with everything
//! typed still in it.

use super::Shop;
use super::cart::{CartView, CountryChoice, Destination, ProvinceChoice, countries, provinces};
use crate::page::{Frame, PageError, Visit, render, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Address, CartKey, CheckoutRequest, Failure};
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

#[derive(Template)]
#[template(path = "checkout.html")]
struct CheckoutPage {
    page: Frame,
    root: String,
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

async fn render_form(
    visit: &mut Visit,
    shop: &Shop,
    mut form: CheckoutForm,
    errors: Vec<(String, String)>,
    banner: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let Some(held) = visit.held_cart(shop.slug()) else {
        return Ok(see_other(&format!("{}/cart", shop.root())));
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
            return Ok(see_other(&format!("{}/cart", shop.root())));
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
        return Ok(see_other(&format!("{}/cart", shop.root())));
    }
    if form.idempotency_key.is_empty() || errors.is_empty() && banner.is_none() {
        form.idempotency_key = Uuid::new_v4().to_string();
    }
    let mut page = shop.frame(visit, shop.lang.t("checkout-title"), "/checkout");
    page.noindex = true;
    page.htmx = true;
    let body = render(
        shop.lang,
        &CheckoutPage {
            root: shop.root(),
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

/// `GET /s/{shop}/{lang}/checkout`: the form (`?country=&province=` chooses the
/// destination whose shipping options it lists).
pub async fn form(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    query: web::Query<Destination>,
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
    render_form(&mut visit, &shop, form, Vec::new(), None, StatusCode::OK).await
}

/// Which form field an API field path names.
fn form_field(api_field: &str) -> &str {
    api_field
        .strip_prefix("shipping_address.")
        .unwrap_or(api_field)
}

/// `POST /s/{shop}/{lang}/checkout`: places the order.
pub async fn place(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<CheckoutForm>,
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
    let Some(held) = visit.held_cart(shop.slug()) else {
        return Ok(see_other(&format!("{}/cart", shop.root())));
    };
    let Ok(rate) = Uuid::parse_str(form.shipping_rate_id.trim()) else {
        let errors = vec![(
            "shipping_rate_id".to_owned(),
            l.t("checkout-choose-shipping"),
        )];
        return render_form(
            &mut visit,
            &shop,
            form,
            errors,
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    };
    let key = form.idempotency_key.trim();
    if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return render_form(&mut visit, &shop, form, Vec::new(), None, StatusCode::OK).await;
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
            session.data.carts.remove(shop.slug());
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
                form,
                errors,
                banner,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        // Stock or prices changed under the buyer: the cart says which line.
        Err(Failure::Refused {
            status: 409 | 404, ..
        }) => Ok(see_other(&format!("{}/cart", shop.root()))),
        Err(Failure::Refused { .. }) => {
            let banner = Some(l.t("checkout-refused"));
            render_form(
                &mut visit,
                &shop,
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
                form,
                Vec::new(),
                banner,
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
    }
}
