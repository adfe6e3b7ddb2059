//! Signing in to the admin, choosing among one's shops, switching shop without
//! signing in again (the auth service's token exchange), and signing out.

use super::Desk;
use crate::i18n::Lang;
use crate::page::{Frame, PageError, Visit, render, see_other};
use crate::session::{Account, Seat, Staff};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use base64::Engine;
use caravan_client::{Failure, Membership, Tokens};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInPage {
    page: Frame,
    door: Door,
    csrf: String,
    email: String,
    next: String,
    message: Option<String>,
}

/// A sign-in page: the admin's or the operators' console's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Door {
    /// Where its form posts (and the page's own address).
    pub action: &'static str,
    pub title: &'static str,
    pub lead: &'static str,
    /// The face it opens (`/admin`, `/ops`): where to land, and what `next` may name.
    pub home: &'static str,
    /// Who it seats in the session.
    pub seat: Seat,
}

impl Door {
    /// Where to go after signing in: a page of this face, never another site.
    pub fn next(&self, next: Option<&str>) -> String {
        safe_return(next, self.home)
    }
}

/// The admin's sign-in.
const ADMIN: Door = Door {
    action: "/admin/sign-in",
    title: "admin-sign-in-title",
    lead: "admin-sign-in-lead",
    home: "/admin",
    seat: Seat::Staff,
};

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
}

/// Where to go after signing in: an admin page, never another site.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    ADMIN.next(next)
}

/// `next` when it is a page under `home` on this site, else `home`.
fn safe_return(next: Option<&str>, home: &str) -> String {
    match next {
        Some(path)
            if (path == home
                || path
                    .strip_prefix(home)
                    .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?')))
                && !path.contains("//")
                && !path.contains('\\') =>
        {
            path.to_owned()
        }
        _ => home.to_owned(),
    }
}

pub(crate) fn language(visit: &Visit, wanted: Option<&str>) -> Lang {
    wanted
        .and_then(Lang::from_tag)
        .unwrap_or_else(|| visit.language_or(Lang::ZhCn))
}

/// The sign-in page of `door`, with what the last attempt said.
pub(crate) struct Attempt {
    pub email: String,
    pub next: String,
    pub message: Option<String>,
    pub status: StatusCode,
}

pub(crate) async fn sign_in_page(
    mut visit: Visit,
    lang: Lang,
    door: Door,
    attempt: Attempt,
) -> Result<HttpResponse, PageError> {
    let Attempt {
        email,
        next,
        message,
        status,
    } = attempt;
    visit.session_mut();
    let mut page = Frame::new(lang, lang.t(door.title));
    page.noindex = true;
    let query_next = next.clone();
    page = page.with_languages(&visit.web.public_url, |lang| {
        let query =
            serde_urlencoded::to_string([("next", query_next.as_str()), ("lang", lang.tag())])
                .unwrap_or_default();
        format!("{}?{query}", door.action)
    });
    page.canonical = None;
    page.alternates.clear();
    let body = render(
        lang,
        &SignInPage {
            door,
            csrf: visit.csrf(),
            email,
            next,
            message,
            page,
        },
    )?;
    let response = visit.html(status, body, false);
    Ok(visit.reply(response).await)
}

/// `GET /admin/sign-in`.
pub async fn form(visit: Visit, query: web::Query<SignInQuery>) -> Result<HttpResponse, PageError> {
    open_door(visit, &query, ADMIN).await
}

/// The sign-in page of `door`; someone already seated there goes straight on.
pub(crate) async fn open_door(
    visit: Visit,
    query: &SignInQuery,
    door: Door,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    let next = door.next(query.next.as_deref());
    if visit
        .session
        .as_ref()
        .is_some_and(|session| door.seat.refresh_token(&session.data).is_some())
    {
        return Ok(see_other(&next));
    }
    let attempt = Attempt {
        email: String::new(),
        next,
        message: None,
        status: StatusCode::OK,
    };
    sign_in_page(visit, lang, door, attempt).await
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub password: String,
    #[serde(default)]
    pub csrf: String,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub lang: Option<String>,
}

/// The shop an access token acts in (`tid`), read from the token the auth
/// service has just issued to us.
fn token_shop(access_token: &str) -> Option<Uuid> {
    claims(access_token)?.tid
}

/// What an access token the auth service has just issued to us says: the shop it
/// acts in (`tid`) and the role (`role`).
#[derive(Debug, Deserialize)]
pub(crate) struct Claims {
    pub tid: Option<Uuid>,
    #[serde(default)]
    pub role: String,
}

pub(crate) fn claims(access_token: &str) -> Option<Claims> {
    let payload = access_token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    serde_json::from_slice::<Claims>(&bytes).ok()
}

/// Seats `tokens` at the admin: the shop they act in, its name, the person's role.
/// `None` when the tokens act in no shop of theirs.
pub(crate) async fn seat(visit: &Visit, tokens: Tokens, lang: Lang) -> Option<Staff> {
    let shop = token_shop(&tokens.access_token)?;
    let caller = visit.caller().with_bearer(Some(&tokens.access_token));
    let account = visit.api().account(caller).await.ok()?;
    let membership = account
        .memberships
        .iter()
        .find(|membership| membership.tenant_id == shop)?
        .clone();
    let shop_name = visit
        .shop_profile(&membership.tenant_slug)
        .await
        .map(|profile| profile.name)
        .unwrap_or_else(|_| membership.tenant_slug.clone());
    let mut person = Account {
        email: account.email,
        name: account.display_name,
        access_token: String::new(),
        refresh_token: String::new(),
        expires_at: 0,
    };
    person.renew(tokens);
    Some(Staff {
        account: person,
        shop_id: membership.tenant_id,
        shop: membership.tenant_slug,
        shop_name,
        role: membership.role,
        lang: lang.tag().to_owned(),
    })
}

/// `POST /admin/sign-in`. An account in several shops is signed in to the first
/// and shown the list to choose from.
pub async fn sign_in(
    mut visit: Visit,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, form.lang.as_deref());
    let next = safe_next(form.next.as_deref());
    let email = form.email.trim().to_owned();
    if visit.session.is_none() {
        let attempt = Attempt {
            email,
            next,
            message: None,
            status: StatusCode::OK,
        };
        return sign_in_page(visit, lang, ADMIN, attempt).await;
    }
    visit.check_csrf(lang, &form.csrf)?;
    let api = visit.api().clone();
    let mut chosen_first = false;
    let mut outcome = api
        .staff_login(visit.caller(), &email, &form.password, None)
        .await;
    if let Err(Failure::Refused {
        status: 422,
        problem,
    }) = &outcome
        && let Some(first) = problem.choices.first()
    {
        chosen_first = true;
        outcome = api
            .staff_login(visit.caller(), &email, &form.password, Some(first))
            .await;
    }
    let refused = |key: &str, status| (Some(lang.t(key)), status);
    let (message, status) = match outcome {
        Ok(tokens) => {
            let refresh = tokens.refresh_token.clone();
            match seat(&visit, tokens, lang).await {
                Some(staff) => {
                    visit.session_mut().data.staff = Some(staff);
                    let location = if chosen_first {
                        let query = serde_urlencoded::to_string([("next", next.as_str())])
                            .unwrap_or_default();
                        format!("/admin/shops?{query}")
                    } else {
                        next
                    };
                    let response = see_other(&location);
                    return Ok(visit.reply(response).await);
                }
                None => {
                    // A buyer's account, or one whose shops are all closed: the
                    // session it was given ends at once.
                    let _ = api.logout(visit.caller(), &refresh).await;
                    refused("admin-no-shop", StatusCode::FORBIDDEN)
                }
            }
        }
        Err(Failure::Refused { status: 429, .. }) => {
            refused("account-throttled", StatusCode::TOO_MANY_REQUESTS)
        }
        Err(Failure::Refused {
            status: 403,
            problem,
        }) if problem.code == "email_not_verified" => {
            refused("admin-verify-first", StatusCode::FORBIDDEN)
        }
        Err(Failure::Refused { status: 403, .. }) => {
            refused("admin-shop-suspended", StatusCode::FORBIDDEN)
        }
        Err(Failure::Refused { .. }) => {
            refused("account-sign-in-refused", StatusCode::UNAUTHORIZED)
        }
        Err(Failure::Unavailable(_)) => {
            refused("error-unavailable-body", StatusCode::SERVICE_UNAVAILABLE)
        }
    };
    let attempt = Attempt {
        email,
        next,
        message,
        status,
    };
    sign_in_page(visit, lang, ADMIN, attempt).await
}

#[derive(Template)]
#[template(path = "admin/shops.html")]
struct ShopsPage {
    page: Frame,
    csrf: String,
    shops: Vec<ShopChoice>,
    next: String,
    message: Option<String>,
}

struct ShopChoice {
    slug: String,
    name: String,
    role: String,
    current: bool,
}

async fn choices(desk: &Desk, memberships: Vec<Membership>) -> Vec<ShopChoice> {
    let mut shops = Vec::with_capacity(memberships.len());
    for membership in memberships {
        let name = desk
            .visit
            .shop_profile(&membership.tenant_slug)
            .await
            .map(|profile| profile.name)
            .unwrap_or_else(|_| membership.tenant_slug.clone());
        shops.push(ShopChoice {
            current: membership.tenant_slug == desk.staff.shop,
            slug: membership.tenant_slug,
            name,
            role: membership.role,
        });
    }
    shops
}

/// `GET /admin/shops`: the shops the person works in.
pub async fn shops(
    mut desk: Desk,
    query: web::Query<SignInQuery>,
) -> Result<HttpResponse, PageError> {
    let account = desk
        .api()
        .account(desk.caller())
        .await
        .map_err(|failure| desk.failed(&failure))?;
    let shops = choices(&desk, account.memberships).await;
    let page = ShopsPage {
        page: desk.frame(desk.t("admin-shops-title"), super::Section::More),
        csrf: desk.visit.csrf(),
        shops,
        next: safe_next(query.next.as_deref()),
        message: None,
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

#[derive(Debug, Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    shop: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /admin/shops`: acts in another of the person's shops, in the same session.
pub async fn switch(
    mut desk: Desk,
    form: web::Form<SwitchForm>,
) -> Result<HttpResponse, PageError> {
    desk.check_csrf(&form.csrf)?;
    let next = safe_next(form.next.as_deref());
    if form.shop == desk.staff.shop {
        return Ok(desk.redirect(&next).await);
    }
    let refresh = desk.staff.account.refresh_token.clone();
    let outcome = desk
        .api()
        .switch_shop(desk.visit.caller(), &refresh, &form.shop)
        .await;
    match outcome {
        Ok(tokens) => {
            let lang = desk.lang;
            match seat(&desk.visit, tokens, lang).await {
                Some(staff) => {
                    desk.visit.session_mut().data.staff = Some(staff);
                    Ok(desk.redirect("/admin").await)
                }
                None => Err(PageError::unavailable(lang)),
            }
        }
        Err(Failure::Refused { status: 401, .. }) => {
            // The session ended meanwhile: sign in again.
            Seat::Staff.clear(&mut desk.visit.session_mut().data);
            Ok(desk.redirect("/admin/sign-in").await)
        }
        Err(failure) => {
            let account = desk
                .api()
                .account(desk.caller())
                .await
                .map_err(|failure| desk.failed(&failure))?;
            let shops = choices(&desk, account.memberships).await;
            let page = ShopsPage {
                page: desk.frame(desk.t("admin-shops-title"), super::Section::More),
                csrf: desk.visit.csrf(),
                shops,
                next,
                message: desk.refusal(&failure).into_iter().next(),
            };
            Ok(desk.send(StatusCode::UNPROCESSABLE_ENTITY, &page).await)
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /admin/sign-out`: ends the staff session at the auth service too.
pub async fn sign_out(
    visit: Visit,
    form: web::Form<SignOutForm>,
) -> Result<HttpResponse, PageError> {
    leave(visit, &form.csrf, Seat::Staff, "/admin/sign-in").await
}

/// Signs `seat` out of the session, ending its session at the auth service too,
/// and sends the browser to `then`.
pub(crate) async fn leave(
    mut visit: Visit,
    csrf: &str,
    seat: Seat,
    then: &str,
) -> Result<HttpResponse, PageError> {
    let lang = visit.language_or(Lang::ZhCn);
    visit.check_csrf(lang, csrf)?;
    if let Some(refresh) = visit
        .session
        .as_ref()
        .and_then(|s| seat.refresh_token(&s.data))
    {
        let _ = visit.api().logout(visit.caller(), &refresh).await;
        seat.clear(&mut visit.session_mut().data);
    }
    let response = see_other(then);
    Ok(visit.reply(response).await)
}
