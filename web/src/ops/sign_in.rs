//! Signing in to the console and out of it. Only a platform operator's account is
//! seated; any other account's session is ended at once and the page says why.

use crate::admin::sign_in::{Attempt, Door, SignInForm, SignInQuery, claims, language};
use crate::page::{PageError, Visit, see_other};
use crate::session::{Account, Operator, Seat};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use caravan_client::Failure;

/// The console's sign-in.
const CONSOLE: Door = Door {
    action: "/ops/sign-in",
    title: "ops-sign-in-title",
    lead: "ops-sign-in-lead",
    home: "/ops",
    seat: Seat::Operator,
};

/// `GET /ops/sign-in`.
pub async fn form(visit: Visit, query: web::Query<SignInQuery>) -> Result<HttpResponse, PageError> {
    crate::admin::sign_in::open_door(visit, &query, CONSOLE).await
}

/// `POST /ops/sign-in`.
pub async fn sign_in(
    mut visit: Visit,
    form: web::Form<SignInForm>,
) -> Result<HttpResponse, PageError> {
    let lang = language(&visit, form.lang.as_deref());
    let next = CONSOLE.next(form.next.as_deref());
    let email = form.email.trim().to_owned();
    let mut attempt = Attempt {
        email: email.clone(),
        next: next.clone(),
        message: None,
        status: StatusCode::OK,
    };
    if visit.session.is_none() {
        return crate::admin::sign_in::sign_in_page(visit, lang, CONSOLE, attempt).await;
    }
    visit.check_csrf(lang, &form.csrf)?;
    let api = visit.api().clone();
    let outcome = api.login(visit.caller(), &email, &form.password).await;
    let (key, status) = match outcome {
        Ok(tokens) => {
            let operator = claims(&tokens.access_token)
                .is_some_and(|claims| claims.role == "platform_admin" && claims.tid.is_none());
            if operator {
                let caller = visit.caller().with_bearer(Some(&tokens.access_token));
                let name = api
                    .me(caller)
                    .await
                    .map(|me| me.display_name)
                    .unwrap_or_default();
                let mut account = Account {
                    email,
                    name,
                    access_token: String::new(),
                    refresh_token: String::new(),
                    expires_at: 0,
                };
                account.renew(tokens);
                visit.session_mut().data.operator = Some(Operator {
                    account,
                    lang: lang.tag().to_owned(),
                });
                let response = see_other(&next);
                return Ok(visit.reply(response).await);
            }
            // A shop's account: its new session ends here.
            let _ = api.logout(visit.caller(), &tokens.refresh_token).await;
            ("ops-not-operator", StatusCode::FORBIDDEN)
        }
        // An account in several shops is asked to choose one: it is no operator.
        Err(Failure::Refused {
            status: 422,
            problem,
        }) if !problem.choices.is_empty() => ("ops-not-operator", StatusCode::FORBIDDEN),
        Err(Failure::Refused { status: 429, .. }) => {
            ("account-throttled", StatusCode::TOO_MANY_REQUESTS)
        }
        Err(Failure::Refused { .. }) => ("account-sign-in-refused", StatusCode::UNAUTHORIZED),
        Err(Failure::Unavailable(_)) => ("error-unavailable-body", StatusCode::SERVICE_UNAVAILABLE),
    };
    attempt.message = Some(lang.t(key));
    attempt.status = status;
    crate::admin::sign_in::sign_in_page(visit, lang, CONSOLE, attempt).await
}

/// `POST /ops/sign-out`: ends the operator's session at the auth service too.
pub async fn sign_out(
    visit: Visit,
    form: web::Form<crate::admin::sign_in::SignOutForm>,
) -> Result<HttpResponse, PageError> {
    crate::admin::sign_in::leave(visit, &form.csrf, Seat::Operator, "/ops/sign-in").await
}

#[cfg(test)]
mod tests {
    use super::CONSOLE;

    #[test]
    fn only_console_pages_are_returned_to_after_signing_in() {
        assert_eq!(
            CONSOLE.next(Some("/ops/shops?status=active")),
            "/ops/shops?status=active"
        );
        for hostile in [
            "https://evil.example/ops",
            "//evil.example",
            "/ops//x",
            "/opsx",
            "/admin",
        ] {
            assert_eq!(CONSOLE.next(Some(hostile)), "/ops", "{hostile}");
        }
    }
}
