//! Checkout: contact, phone, address (a province list for China, the countries the
//! shop ships to), the shipping options of the shop's zones for that address, and
//! a note. Each rendered form carries its own `Idempotency-Key`, so a double submit
//! places one order. A line that cannot be bought sends the buyer back to the cart,
//! where its problem is shown; an outage answers the form again with everything
//! typed still in it.
//!
//! A group deal's checkout is the same form over the group's own cart (one line,
//! the deal's variant), priced at the group price: it opens a new group or joins a
//! forming one, and never touches the shop's cart. A harvest pre-order's checkout
//! is the same again over the pre-order's own cart: its variant may have no stock
//! (a pre-order holds none), and its first payment is the deposit.

use super::Shop;
use super::cart::{CartView, CountryChoice, Destination, ProvinceChoice, countries, provinces};
use crate::page::{Frame, PageError, Visit, render, see_other};
use crate::session::{CartRef, GroupCart, PreorderCart};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Address, CartKey, CheckoutGroup, CheckoutPreorder, CheckoutRequest, Failure};
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

/// Which kind of checkout a form is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The shop's cart.
    Cart,
    /// A group deal's cart.
    Group,
    /// A harvest pre-order's cart.
    Preorder,
}

impl Kind {
    /// The checkout's path under the shop's root.
    fn path(self) -> &'static str {
        match self {
            Self::Cart => "/checkout",
            Self::Group => "/group-checkout",
            Self::Preorder => "/preorder-checkout",
        }
    }
}

/// Which of the session's carts is checked out.
#[derive(Debug, Clone)]
pub enum Purchase {
    /// The shop's cart.
    Cart,
    /// A group deal's own cart.
    Group(GroupCart),
    /// A harvest pre-order's own cart.
    Preorder(PreorderCart),
}

impl Purchase {
    /// The session's purchase of this kind in `shop`, with its cart.
    fn held(visit: &Visit, shop: &Shop, kind: Kind) -> Option<(Self, CartRef)> {
        let data = || visit.session.as_ref().map(|session| &session.data);
        match kind {
            Kind::Cart => Some((Self::Cart, visit.held_cart(shop.slug())?)),
            Kind::Group => {
                let held = data()?.group_carts.get(shop.slug())?.clone();
                let cart = held.cart.clone();
                Some((Self::Group(held), cart))
            }
            Kind::Preorder => {
                let held = data()?.preorder_carts.get(shop.slug())?.clone();
                let cart = held.cart.clone();
                Some((Self::Preorder(held), cart))
            }
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Self::Cart => Kind::Cart,
            Self::Group(_) => Kind::Group,
            Self::Preorder(_) => Kind::Preorder,
        }
    }

    /// The form's address.
    fn action(&self, shop: &Shop) -> String {
        format!("{}{}", shop.root(), self.kind().path())
    }

    /// Where a buyer goes when the purchase cannot be checked out: the cart, the
    /// group's page (the product's, for a new group) or for a pre-order the
    /// product's page, saying why.
    fn back(&self, shop: &Shop, problem: &str) -> String {
        match self {
            Self::Cart => format!("{}/cart", shop.root()),
            Self::Group(held) => super::groups::back_to(shop, held, problem),
            Self::Preorder(held) => {
                let problem = if super::preorders::REFUSALS.contains(&problem) {
                    problem
                } else {
                    "preorder_unavailable"
                };
                super::preorders::back_to(shop, &held.handle, problem)
            }
        }
    }

    /// Forgets the purchase's cart (checked out, or spent).
    fn forget(&self, visit: &mut Visit, shop: &Shop) {
        let data = &mut visit.session_mut().data;
        match self {
            Self::Cart => drop(data.carts.remove(shop.slug())),
            Self::Group(_) => drop(data.group_carts.remove(shop.slug())),
            Self::Preorder(_) => drop(data.preorder_carts.remove(shop.slug())),
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
    preorder: Option<super::preorders::CheckoutSummary>,
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

/// The checkout form of the session's purchase of `kind`, with what the buyer
/// typed, the refused fields and a banner.
async fn render_form(
    visit: &mut Visit,
    shop: &Shop,
    kind: Kind,
    mut form: CheckoutForm,
    errors: Vec<(String, String)>,
    banner: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let Some((purchase, held)) = Purchase::held(visit, shop, kind) else {
        return Ok(nothing_held(shop, kind));
    };
    let (summary, harvest) = match &purchase {
        Purchase::Cart => (None, None),
        Purchase::Group(group_cart) => {
            match super::groups::checkout_summary(visit, shop, group_cart).await {
                Ok(summary) => (Some(summary), None),
                Err(problem) => return Ok(see_other(&purchase.back(shop, problem))),
            }
        }
        Purchase::Preorder(preorder_cart) => {
            match super::preorders::checkout_summary(visit, shop, preorder_cart).await {
                Ok(summary) => (None, Some(summary)),
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
        Ok(cart) if cart.order_id.is_none() => {
            let mut view = CartView::of(shop, &cart);
            // A pre-order holds no stock: its variant may have none yet.
            if kind == Kind::Preorder {
                view.ready = !cart.lines.is_empty()
                    && cart.lines.iter().all(|line| {
                        matches!(
                            line.problem.as_deref(),
                            None | Some("out_of_stock" | "insufficient_stock")
                        )
                    });
            }
            view
        }
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
    let title = match kind {
        Kind::Cart => "checkout-title",
        Kind::Group => "group-checkout-title",
        Kind::Preorder => "preorder-checkout-title",
    };
    let mut page = shop.frame(visit, shop.lang.t(title), kind.path());
    page.noindex = true;
    page.htmx = true;
    let body = render(
        shop.lang,
        &CheckoutPage {
            action: purchase.action(shop),
            group: summary,
            preorder: harvest,
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
fn nothing_held(shop: &Shop, kind: Kind) -> HttpResponse {
    match kind {
        Kind::Cart => see_other(&format!("{}/cart", shop.root())),
        Kind::Group | Kind::Preorder => see_other(&format!("{}/", shop.root())),
    }
}

/// `GET /s/{shop}/{lang}/checkout`: the form (`?country=&province=` chooses the
/// destination whose shipping options it lists).
pub async fn form(
    visit: Visit,
    path: web::Path<(String, String)>,
    query: web::Query<Destination>,
) -> Result<HttpResponse, PageError> {
    show_form(visit, path, query, Kind::Cart).await
}

/// `GET /s/{shop}/{lang}/group-checkout`: the same form for a group deal's cart.
pub async fn group_form(
    visit: Visit,
    path: web::Path<(String, String)>,
    query: web::Query<Destination>,
) -> Result<HttpResponse, PageError> {
    show_form(visit, path, query, Kind::Group).await
}

/// `GET /s/{shop}/{lang}/preorder-checkout`: the same form for a pre-order's cart.
pub async fn preorder_form(
    visit: Visit,
    path: web::Path<(String, String)>,
    query: web::Query<Destination>,
) -> Result<HttpResponse, PageError> {
    show_form(visit, path, query, Kind::Preorder).await
}

async fn show_form(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    query: web::Query<Destination>,
    kind: Kind,
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
        kind,
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
    place_order(visit, path, form, Kind::Cart).await
}

/// `POST /s/{shop}/{lang}/group-checkout`: places a group deal's order, opening or
/// joining its group.
pub async fn group_place(
    visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<CheckoutForm>,
) -> Result<HttpResponse, PageError> {
    place_order(visit, path, form, Kind::Group).await
}

/// `POST /s/{shop}/{lang}/preorder-checkout`: places a harvest pre-order.
pub async fn preorder_place(
    visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<CheckoutForm>,
) -> Result<HttpResponse, PageError> {
    place_order(visit, path, form, Kind::Preorder).await
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
    kind: Kind,
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
    let Some((purchase, held)) = Purchase::held(&visit, &shop, kind) else {
        return Ok(nothing_held(&shop, kind));
    };
    let Ok(rate) = Uuid::parse_str(form.shipping_rate_id.trim()) else {
        let errors = vec![(
            "shipping_rate_id".to_owned(),
            l.t("checkout-choose-shipping"),
        )];
        return render_form(
            &mut visit,
            &shop,
            kind,
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
            kind,
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
            Purchase::Preorder(_) => None,
        },
        preorder: match &purchase {
            Purchase::Preorder(held) => Some(CheckoutPreorder {
                campaign_id: held.campaign_id,
            }),
            Purchase::Cart | Purchase::Group(_) => None,
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
            purchase.forget(&mut visit, &shop);
            let session = visit.session_mut();
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
                kind,
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
        }) if kind == Kind::Group && GROUP_REFUSALS.contains(&problem.code.as_str()) => {
            purchase.forget(&mut visit, &shop);
            let response = see_other(&purchase.back(&shop, &problem.code));
            Ok(visit.reply(response).await)
        }
        // The harvest sold out or closed: the product's page says so. Its cart is
        // spent.
        Err(Failure::Refused {
            status: 409,
            problem,
        }) if kind == Kind::Preorder
            && super::preorders::REFUSALS.contains(&problem.code.as_str()) =>
        {
            purchase.forget(&mut visit, &shop);
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
                kind,
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
                kind,
                form,
                Vec::new(),
                banner,
                StatusCode::SERVICE_UNAVAILABLE,
            )
            .await
        }
    }
}
