//! The signed-in person's own account: their password, and the language the
//! admin speaks to them in.

use super::{Desk, Done, Posted, Section};
use crate::i18n::Lang;
use crate::page::{Frame, PageError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::Failure;

#[derive(Template)]
#[template(path = "admin/account.html")]
struct AccountPage {
    page: Frame,
    csrf: String,
    name: String,
    email: String,
    langs: Vec<(&'static str, &'static str, bool)>,
    problems: Vec<String>,
    notice: Option<String>,
}

async fn account_page(
    desk: &mut Desk,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let page = AccountPage {
        page: desk.frame(desk.t("admin-account-title"), Section::More),
        csrf: desk.visit.csrf(),
        name: desk.staff.account.name.clone(),
        email: desk.staff.account.email.clone(),
        langs: Lang::ALL
            .iter()
            .map(|l| (l.tag(), l.native_name(), *l == desk.lang))
            .collect(),
        problems,
        notice,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/account`.
pub async fn show(mut desk: Desk, query: web::Query<Done>) -> Result<HttpResponse, PageError> {
    let notice = query.notice(
        desk.lang,
        &[
            ("password", "admin-password-changed"),
            ("language", "admin-product-saved"),
        ],
    );
    account_page(&mut desk, Vec::new(), notice, StatusCode::OK).await
}

/// `POST /admin/account/language`: the admin's language, kept in the session.
pub async fn language(
    mut desk: Desk,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let lang = Lang::from_tag(&form.get("lang")).unwrap_or(desk.lang);
    if let Some(staff) = desk.visit.session_mut().data.staff.as_mut() {
        staff.lang = lang.tag().to_owned();
    }
    Ok(desk.redirect("/admin/account?done=language").await)
}

/// `POST /admin/account/password`.
pub async fn password(
    mut desk: Desk,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    // Passwords are taken as typed: spaces may be part of them.
    let raw = |name: &str| {
        form.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
            .unwrap_or_default()
    };
    let (current, new, again) = (raw("current"), raw("new"), raw("again"));
    if new != again {
        let problem = desk.t("admin-passwords-differ");
        return account_page(
            &mut desk,
            vec![problem],
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match desk
        .api()
        .change_password(desk.caller(), &current, &new)
        .await
    {
        Ok(()) => Ok(desk.redirect("/admin/account?done=password").await),
        Err(Failure::Refused {
            status: 401 | 403, ..
        }) => {
            let problem = desk.t("admin-password-wrong");
            account_page(
                &mut desk,
                vec![problem],
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(Failure::Refused { status: 422, .. }) => {
            let problem = desk.t("account-password-rules");
            account_page(
                &mut desk,
                vec![problem],
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(failure) => Err(desk.failed(&failure)),
    }
}
