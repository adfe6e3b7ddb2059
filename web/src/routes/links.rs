//! Where the auth service's email links land: confirming an email address,
//! choosing a new password, and accepting an invitation to a shop's staff. Each
//! link opens a page with one button or form, so a mail scanner that follows the
//! link spends nothing. An accepted invitation signs the new member in to the admin.

use crate::i18n::Lang;
use crate::page::{Frame, PageError, Visit, render, see_other};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Failure, Tokens};
use serde::Deserialize;

/// An emailed link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Verify,
    Reset,
    Invitation,
}

impl Link {
    /// Its name in the page's strings (`link-{kind}-title`, …) and template.
    fn kind(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::Reset => "reset",
            Self::Invitation => "invitation",
        }
    }

    /// Where it lands (and its form posts).
    fn path(self) -> &'static str {
        match self {
            Self::Verify => "/verify-email",
            Self::Reset => "/reset-password",
            Self::Invitation => "/invitations/accept",
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LinkQuery {
    #[serde(default)]
    token: String,
    #[serde(default)]
    lang: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    csrf: String,
}

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    page: Frame,
    kind: &'static str,
    action: &'static str,
    token: String,
    csrf: String,
    message: Option<(String, String)>,
    done: bool,
    button: String,
}

/// What a link's form answered: a notice, whether it is done, the status.
struct Outcome {
    message: Option<(String, String)>,
    done: bool,
    status: StatusCode,
}

impl Outcome {
    fn of(lang: Lang, link: Link, result: Result<(), Failure>) -> Self {
        let bad = |key: &str, status| Self {
            message: Some(("bad".into(), lang.t(key))),
            done: false,
            status,
        };
        match result {
            Ok(()) => Self {
                message: Some(("good".into(), lang.t(&format!("link-{}-done", link.kind())))),
                done: true,
                status: StatusCode::OK,
            },
            Err(Failure::Refused {
                status: 422,
                problem,
            }) if problem.errors.iter().any(|e| e.field == "password") => {
                bad("account-password-rules", StatusCode::UNPROCESSABLE_ENTITY)
            }
            Err(Failure::Refused { .. }) => bad("link-expired", StatusCode::UNPROCESSABLE_ENTITY),
            Err(Failure::Unavailable(_)) => {
                bad("error-unavailable-body", StatusCode::SERVICE_UNAVAILABLE)
            }
        }
    }

    fn blank() -> Self {
        Self {
            message: None,
            done: false,
            status: StatusCode::OK,
        }
    }
}

fn language(visit: &Visit, wanted: Option<&str>) -> Lang {
    wanted
        .and_then(Lang::from_tag)
        .unwrap_or_else(|| visit.language_or(Lang::ZhCn))
}

fn well_formed(token: &str) -> bool {
    token.len() == 43
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn page(
    mut visit: Visit,
    lang: Lang,
    link: Link,
    token: String,
    outcome: Outcome,
) -> Result<HttpResponse, PageError> {
    // The form posts a secret-bearing token: it is bound to a session.
    visit.session_mut();
    let action = link.path();
    let mut frame = Frame::new(lang, lang.t(&format!("link-{}-title", link.kind())))
        .with_languages(&visit.web.public_url, |l| {
            format!("{action}?lang={}", l.tag())
        });
    frame.noindex = true;
    frame.canonical = None;
    frame.alternates.clear();
    frame.signed_in = visit.signed_in();
    let body = render(
        lang,
        &LinkPage {
            page: frame,
            kind: link.kind(),
            action,
            token: if well_formed(&token) {
                token
            } else {
                String::new()
            },
            csrf: visit.csrf(),
            message: outcome.message,
            done: outcome.done,
            button: lang.t(&format!("link-{}-button", link.kind())),
        },
    )?;
    let response = visit.html(outcome.status, body, false);
    Ok(visit.reply(response).await)
}

/// The page a link opens.
async fn open(visit: Visit, query: LinkQuery, link: Link) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    page(visit, lang, link, query.token, Outcome::blank()).await
}

/// The link's form, sent.
async fn submit(
    visit: Visit,
    query: LinkQuery,
    form: LinkForm,
    link: Link,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    visit.check_csrf(lang, &form.csrf)?;
    let (api, caller) = (visit.api(), visit.caller());
    let result = if !well_formed(&form.token) {
        Err(Failure::Refused {
            status: 422,
            problem: Default::default(),
        })
    } else {
        match link {
            Link::Verify => api.verify_email(caller, &form.token).await,
            Link::Reset => {
                api.reset_password(caller, &form.token, &form.password)
                    .await
            }
            Link::Invitation => {
                let accepted = api
                    .accept_invitation(caller, &form.token, &form.password, form.name.trim())
                    .await;
                match accepted {
                    Ok(tokens) => return Ok(enter_admin(visit, tokens, lang).await),
                    Err(failure) => Err(failure),
                }
            }
        }
    };
    let outcome = Outcome::of(lang, link, result);
    page(visit, lang, link, form.token, outcome).await
}

/// An accepted invitation signs its new member in to the admin: an owner lands on
/// the first-run checklist, anyone else on the admin's first page.
async fn enter_admin(mut visit: Visit, tokens: Tokens, lang: Lang) -> HttpResponse {
    let location = match crate::admin::sign_in::seat(&visit, tokens, lang).await {
        Some(staff) => {
            let owner = staff.role == "owner";
            visit.session_mut().data.staff = Some(staff);
            if owner { "/admin/welcome" } else { "/admin" }
        }
        // Seated or not, the password is set: signing in works from here.
        None => "/admin/sign-in",
    };
    let response = see_other(location);
    visit.reply(response).await
}

/// `GET /verify-email?token=`.
pub async fn verify_form(
    visit: Visit,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, PageError> {
    open(visit, query.into_inner(), Link::Verify).await
}

/// `POST /verify-email`.
pub async fn verify(
    visit: Visit,
    query: web::Query<LinkQuery>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, PageError> {
    submit(visit, query.into_inner(), form.into_inner(), Link::Verify).await
}

/// `GET /reset-password?token=`.
pub async fn reset_form(
    visit: Visit,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, PageError> {
    open(visit, query.into_inner(), Link::Reset).await
}

/// `POST /reset-password`.
pub async fn reset(
    visit: Visit,
    query: web::Query<LinkQuery>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, PageError> {
    submit(visit, query.into_inner(), form.into_inner(), Link::Reset).await
}

/// `GET /invitations/accept?token=`.
pub async fn invitation_form(
    visit: Visit,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, PageError> {
    open(visit, query.into_inner(), Link::Invitation).await
}

/// `POST /invitations/accept`: sets the invited person's password.
pub async fn accept_invitation(
    visit: Visit,
    query: web::Query<LinkQuery>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, PageError> {
    submit(
        visit,
        query.into_inner(),
        form.into_inner(),
        Link::Invitation,
    )
    .await
}
