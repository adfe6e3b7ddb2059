//! A buyer's account in a shop: register (a verification link is emailed), sign
//! in (the guest cart carries over to the account), forgot password, sign out, and
//! the orders placed in this shop.

use super::cart::carry_lines;
use super::{CsrfOnly, Shop};
use crate::money;
use crate::page::{Frame, PageError, Visit, render, see_other};
use crate::session::{Account, CartRef};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::Failure;
use serde::Deserialize;

#[derive(Template)]
#[template(path = "account_form.html")]
struct FormPage {
    page: Frame,
    root: String,
    csrf: String,
    /// `sign-in`, `register` or `forgot`.
    kind: &'static str,
    email: String,
    name: String,
    message: Option<(String, String)>,
    button: String,
}

async fn form_page(
    mut visit: Visit,
    shop: &Shop,
    kind: &'static str,
    email: String,
    name: String,
    message: Option<(String, String)>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    // Signing in is a session's first step: its form carries the session's secret,
    // so nobody else's page can sign a visitor into an account of theirs.
    visit.session_mut();
    let title = shop.lang.t(&format!("account-{kind}-title"));
    let mut page = shop.frame(&visit, title, &format!("/account/{kind}"));
    page.noindex = true;
    let body = render(
        shop.lang,
        &FormPage {
            root: shop.root(),
            csrf: visit.csrf(),
            kind,
            email,
            name,
            message,
            button: shop.lang.t(&format!("account-{kind}-button")),
            page,
        },
    )?;
    let response = visit.html(status, body, false);
    Ok(visit.reply(response).await)
}

/// An account form, empty.
async fn blank(
    visit: Visit,
    path: web::Path<(String, String)>,
    kind: &'static str,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let (email, name) = (String::new(), String::new());
    form_page(visit, &shop, kind, email, name, None, StatusCode::OK).await
}

/// `GET …/account/sign-in`.
pub async fn sign_in_form(
    visit: Visit,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    blank(visit, path, "sign-in").await
}

/// `GET …/account/register`.
pub async fn register_form(
    visit: Visit,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    blank(visit, path, "register").await
}

/// `GET …/account/forgot`.
pub async fn forgot_form(
    visit: Visit,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    blank(visit, path, "forgot").await
}

#[derive(Debug, Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    csrf: String,
}

fn bad(text: String) -> Option<(String, String)> {
    Some(("bad".to_owned(), text))
}

/// `POST …/account/sign-in`.
pub async fn sign_in(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    if visit.session.is_none() {
        // No session, so no form of ours was shown: show it.
        return form_page(
            visit,
            &shop,
            "sign-in",
            form.email.clone(),
            String::new(),
            None,
            StatusCode::OK,
        )
        .await;
    }
    visit.check_csrf(shop.lang, &form.csrf)?;
    let l = shop.lang;
    let email = form.email.trim().to_owned();
    let refused = match visit
        .api()
        .login(visit.caller(), &email, &form.password)
        .await
    {
        Ok(tokens) => Ok(tokens),
        Err(Failure::Refused { status: 429, .. }) => {
            Err(("account-throttled", StatusCode::TOO_MANY_REQUESTS))
        }
        Err(Failure::Refused { .. }) => Err(("account-sign-in-refused", StatusCode::UNAUTHORIZED)),
        Err(Failure::Unavailable(_)) => {
            Err(("error-unavailable-body", StatusCode::SERVICE_UNAVAILABLE))
        }
    };
    let tokens = match refused {
        Ok(tokens) => tokens,
        Err((key, status)) => {
            let message = bad(l.t(key));
            return form_page(
                visit,
                &shop,
                "sign-in",
                email,
                String::new(),
                message,
                status,
            )
            .await;
        }
    };
    let caller = visit.caller().with_bearer(Some(&tokens.access_token));
    let me = visit.api().me(caller).await.ok();
    let guest_cart = visit.held_cart(shop.slug());
    // The guest's cart becomes the customer's: a cart tied to the account, with
    // the same lines.
    let mut customer_cart = None;
    if let Some(guest) = guest_cart
        && let Ok(cart) = visit
            .api()
            .create_cart(caller, shop.slug(), &guest.currency, &shop.content_locale())
            .await
    {
        let mut made = CartRef {
            id: cart.id,
            token: cart.token.unwrap_or_default(),
            currency: guest.currency.clone(),
            count: 0,
        };
        made.count = carry_lines(&visit, &shop, &guest, &made, Some(&tokens.access_token)).await;
        customer_cart = Some(made);
    }

    let mut account = Account {
        email: me.as_ref().map_or(email.clone(), |me| me.email.clone()),
        name: me.map(|me| me.display_name).unwrap_or_default(),
        access_token: String::new(),
        refresh_token: String::new(),
        expires_at: 0,
    };
    account.renew(tokens);
    let session = visit.session_mut();
    session.data.account = Some(account);
    if let Some(cart) = customer_cart {
        session.data.carts.insert(shop.slug().to_owned(), cart);
    }
    let response = see_other(&format!("{}/account", shop.root()));
    Ok(visit.reply(response).await)
}

/// `POST …/account/register`.
pub async fn register(
    visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    visit.check_csrf(shop.lang, &form.csrf)?;
    let l = shop.lang;
    let email = form.email.trim().to_owned();
    let name = form.name.trim().to_owned();
    let outcome = visit
        .api()
        .register(visit.caller(), &email, &form.password, &name)
        .await;
    let (message, status) = match outcome {
        Ok(()) => (
            Some(("good".to_owned(), l.t("account-registered"))),
            StatusCode::OK,
        ),
        Err(Failure::Refused { status: 409, .. }) => {
            (bad(l.t("account-email-taken")), StatusCode::CONFLICT)
        }
        Err(Failure::Refused {
            status: 422,
            problem,
        }) => {
            let text = if problem.errors.iter().any(|e| e.field == "password") {
                l.t("account-password-rules")
            } else if problem.errors.iter().any(|e| e.field == "email") {
                l.t("field-email")
            } else {
                l.t("field-invalid")
            };
            (bad(text), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(Failure::Refused { status: 429, .. }) => {
            (bad(l.t("account-throttled")), StatusCode::TOO_MANY_REQUESTS)
        }
        Err(Failure::Refused { .. }) => {
            (bad(l.t("field-invalid")), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(Failure::Unavailable(_)) => (
            bad(l.t("error-unavailable-body")),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    };
    form_page(visit, &shop, "register", email, name, message, status).await
}

/// `POST …/account/forgot`: the same answer whether or not the account exists.
pub async fn forgot(
    visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<AccountForm>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    visit.check_csrf(shop.lang, &form.csrf)?;
    let l = shop.lang;
    let email = form.email.trim().to_owned();
    let (message, status) = match visit.api().forgot_password(visit.caller(), &email).await {
        Ok(()) => (
            Some(("good".to_owned(), l.t("account-reset-sent"))),
            StatusCode::OK,
        ),
        Err(Failure::Refused { status: 429, .. }) => {
            (bad(l.t("account-throttled")), StatusCode::TOO_MANY_REQUESTS)
        }
        Err(Failure::Refused { .. }) => (bad(l.t("field-email")), StatusCode::UNPROCESSABLE_ENTITY),
        Err(Failure::Unavailable(_)) => (
            bad(l.t("error-unavailable-body")),
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    };
    form_page(
        visit,
        &shop,
        "forgot",
        email,
        String::new(),
        message,
        status,
    )
    .await
}

/// `POST …/account/sign-out`: ends the account's session at the auth service and
/// here.
pub async fn sign_out(
    mut visit: Visit,
    path: web::Path<(String, String)>,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    visit.check_csrf(shop.lang, &form.csrf)?;
    if let Some(account) = visit.session.as_ref().and_then(|s| s.data.account.clone())
        && let Err(error) = visit
            .api()
            .logout(visit.caller(), &account.refresh_token)
            .await
    {
        tracing::warn!(%error, "logout not recorded by the auth service");
    }
    let response = see_other(&format!("{}/", shop.root()));
    Ok(visit.end(response).await)
}

pub struct OrderRow {
    pub href: String,
    pub name: String,
    pub status: String,
    pub total: String,
    pub date: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct OrdersPage {
    page: Frame,
    root: String,
    csrf: String,
    name: String,
    email: String,
    orders: Vec<OrderRow>,
}

/// `GET …/account`: the signed-in buyer's orders in this shop.
pub async fn orders(
    mut visit: Visit,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    let (slug, lang) = path.into_inner();
    let shop = Shop::open(&visit, &slug, &lang).await?;
    let Some(bearer) = visit.bearer().await else {
        let response = see_other(&format!("{}/account/sign-in", shop.root()));
        return Ok(visit.reply(response).await);
    };
    let l = shop.lang;
    let list = match visit
        .api()
        .my_orders(visit.caller().with_bearer(Some(&bearer)), shop.slug(), None)
        .await
    {
        Ok(list) => list,
        // The account's session ended elsewhere (signed out, password changed):
        // sign in again.
        Err(failure) if failure.status() == Some(401) => {
            visit.session_mut().data.account = None;
            let response = see_other(&format!("{}/account/sign-in", shop.root()));
            return Ok(visit.reply(response).await);
        }
        Err(failure) => return Err(PageError::from_failure(l, &failure)),
    };
    let account = visit.session.as_ref().and_then(|s| s.data.account.clone());
    let mut page = shop.frame(&visit, l.t("account-title"), "/account");
    page.noindex = true;
    let body = render(
        l,
        &OrdersPage {
            root: shop.root(),
            csrf: visit.csrf(),
            name: account.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
            email: account.map(|a| a.email).unwrap_or_default(),
            orders: list
                .items
                .iter()
                .map(|order| OrderRow {
                    href: format!("{}/orders/{}", shop.root(), order.id),
                    name: order.name.clone(),
                    status: l.t(&format!("status-{}", order.status)),
                    total: money::format(order.total, l),
                    date: order.created_at.format("%Y-%m-%d").to_string(),
                })
                .collect(),
            page,
        },
    )?;
    let response = visit.html(StatusCode::OK, body, false);
    Ok(visit.reply(response).await)
}
