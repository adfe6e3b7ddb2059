//! Where the auth service's email links land: confirming an email address,
//! choosing a new password, and accepting an invitation to a shop's staff. Each
//! link opens a page with one button or form, so a mail scanner that follows the
//! link spends nothing.

use crate::i18n::Lang;
use crate::page::{Frame, PageError, Visit, render};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::Failure;
use serde::Deserialize;

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
    /// `verify`, `reset` or `invitation`.
    kind: &'static str,
    action: &'static str,
    token: String,
    csrf: String,
    message: Option<(String, String)>,
    done: bool,
    button: String,
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

#[allow(clippy::too_many_arguments)]
async fn page(
    mut visit: Visit,
    lang: Lang,
    kind: &'static str,
    action: &'static str,
    token: String,
    message: Option<(String, String)>,
    done: bool,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    // The form posts a secret-bearing token: it is bound to a session.
    visit.session_mut();
    let mut frame = Frame::new(lang, lang.t(&format!("link-{kind}-title")))
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
            kind,
            action,
            token: if well_formed(&token) {
                token
            } else {
                String::new()
            },
            csrf: visit.csrf(),
            message,
            done,
            button: lang.t(&format!("link-{kind}-button")),
        },
    )?;
    let response = visit.html(status, body, false);
    Ok(visit.reply(response).await)
}

/// What a link's form answers: a notice, whether it is done, the status.
type Outcome = (Option<(String, String)>, bool, StatusCode);

fn outcome(lang: Lang, result: Result<(), Failure>, done_key: &str) -> Outcome {
    match result {
        Ok(()) => (
            Some(("good".into(), lang.t(done_key))),
            true,
            StatusCode::OK,
        ),
        Err(Failure::Refused {
            status: 422,
            problem,
        }) if problem.errors.iter().any(|e| e.field == "password") => (
            Some(("bad".into(), lang.t("account-password-rules"))),
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(Failure::Refused { .. }) => (
            Some(("bad".into(), lang.t("link-expired"))),
            false,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(Failure::Unavailable(_)) => (
            Some(("bad".into(), lang.t("error-unavailable-body"))),
            false,
            StatusCode::SERVICE_UNAVAILABLE,
        ),
    }
}

/// `GET /verify-email?token=`.
pub async fn verify_form(
    visit: Visit,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    let token = query.into_inner().token;
    page(
        visit,
        lang,
        "verify",
        "/verify-email",
        token,
        None,
        false,
        StatusCode::OK,
    )
    .await
}

/// `POST /verify-email`.
pub async fn verify(
    visit: Visit,
    query: web::Query<LinkQuery>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    visit.check_csrf(lang, &form.csrf)?;
    let result = if well_formed(&form.token) {
        visit.api().verify_email(visit.caller(), &form.token).await
    } else {
        Err(Failure::Refused {
            status: 422,
            problem: Default::default(),
        })
    };
    let (message, done, status) = outcome(lang, result, "link-verify-done");
    page(
        visit,
        lang,
        "verify",
        "/verify-email",
        form.token.clone(),
        message,
        done,
        status,
    )
    .await
}

/// `GET /reset-password?token=`.
pub async fn reset_form(
    visit: Visit,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    let token = query.into_inner().token;
    page(
        visit,
        lang,
        "reset",
        "/reset-password",
        token,
        None,
        false,
        StatusCode::OK,
    )
    .await
}

/// `POST /reset-password`.
pub async fn reset(
    visit: Visit,
    query: web::Query<LinkQuery>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    visit.check_csrf(lang, &form.csrf)?;
    let result = if well_formed(&form.token) {
        visit
            .api()
            .reset_password(visit.caller(), &form.token, &form.password)
            .await
    } else {
        Err(Failure::Refused {
            status: 422,
            problem: Default::default(),
        })
    };
    let (message, done, status) = outcome(lang, result, "link-reset-done");
    page(
        visit,
        lang,
        "reset",
        "/reset-password",
        form.token.clone(),
        message,
        done,
        status,
    )
    .await
}

/// `GET /invitations/accept?token=`.
pub async fn invitation_form(
    visit: Visit,
    query: web::Query<LinkQuery>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    let token = query.into_inner().token;
    page(
        visit,
        lang,
        "invitation",
        "/invitations/accept",
        token,
        None,
        false,
        StatusCode::OK,
    )
    .await
}

/// `POST /invitations/accept`: sets the invited person's password.
pub async fn accept_invitation(
    visit: Visit,
    query: web::Query<LinkQuery>,
    form: web::Form<LinkForm>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, query.lang.as_deref());
    visit.check_csrf(lang, &form.csrf)?;
    let result = if well_formed(&form.token) {
        visit
            .api()
            .accept_invitation(
                visit.caller(),
                &form.token,
                &form.password,
                form.name.trim(),
            )
            .await
            .map(|_| ())
    } else {
        Err(Failure::Refused {
            status: 422,
            problem: Default::default(),
        })
    };
    let (message, done, status) = outcome(lang, result, "link-invitation-done");
    page(
        visit,
        lang,
        "invitation",
        "/invitations/accept",
        form.token.clone(),
        message,
        done,
        status,
    )
    .await
}
