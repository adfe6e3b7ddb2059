//! The operators' console (`/ops`): the people who run Caravan review applications,
//! oversee shops (plans, suspension, closing, the audit trail), look after the
//! services (readiness, event relay lag, parked events) and the platform itself
//! (signing keys, operator accounts). Every page acts with the signed-in
//! operator's own token through the public API; anyone else gets a 403 page.

pub mod applications;
pub mod events;
pub mod overview;
pub mod shops;
pub mod sign_in;

use crate::admin::{DeskError, refusal, return_to};
use crate::i18n::Lang;
use crate::page::{Failed, Frame, PageError, Visit};
use crate::session::{Operator, Seat};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use caravan_client::{Caller, Failure};
use std::future::Future;
use std::pin::Pin;

/// Registers the console's pages.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/ops", web::get().to(overview::show))
        .route("/ops/", web::get().to(overview::show))
        .route("/ops/sign-in", web::get().to(sign_in::form))
        .route("/ops/sign-in", web::post().to(sign_in::sign_in))
        .route("/ops/sign-out", web::post().to(sign_in::sign_out))
        .route("/ops/applications", web::get().to(applications::list))
        .route(
            "/ops/applications/{id}",
            web::get().to(applications::detail),
        )
        .route(
            "/ops/applications/{id}/{decision}",
            web::post().to(applications::decide),
        )
        .route("/ops/shops", web::get().to(shops::list))
        .route("/ops/shops", web::post().to(shops::create))
        .route("/ops/shops/new", web::get().to(shops::new))
        .route("/ops/shops/{id}", web::get().to(shops::detail))
        .route("/ops/shops/{id}/plan", web::post().to(shops::change_plan))
        .route("/ops/shops/{id}/{action}", web::post().to(shops::act))
        .route("/ops/events", web::get().to(events::parked))
        .route(
            "/ops/events/{service}/retry-all",
            web::post().to(events::retry_all),
        )
        .route(
            "/ops/events/{service}/{producer}/{seq}/retry",
            web::post().to(events::retry),
        )
        .route("/ops/platform", web::get().to(events::platform))
        .route("/ops/keys/rotate", web::post().to(events::rotate_key))
        .route("/ops/operators", web::post().to(events::create_operator));
}

/// The console's sections, for its bar: `(address, name, string key)`.
const SECTIONS: [(&str, &str, &str); 5] = [
    ("/ops", "overview", "ops-overview"),
    ("/ops/applications", "applications", "ops-applications"),
    ("/ops/shops", "shops", "ops-shops"),
    ("/ops/events", "events", "ops-events"),
    ("/ops/platform", "platform", "ops-platform"),
];

/// One option of a filter or a choice, and whether it is the one chosen.
pub struct Choice {
    pub value: &'static str,
    pub chosen: bool,
}

/// `options` with `chosen` marked.
pub fn choices(options: &[&'static str], chosen: &str) -> Vec<Choice> {
    options
        .iter()
        .map(|value| Choice {
            value,
            chosen: *value == chosen,
        })
        .collect()
}

/// The console's bar.
pub struct OpsBar {
    pub section: &'static str,
    pub csrf: String,
}

impl OpsBar {
    pub fn sections(&self) -> &'static [(&'static str, &'static str, &'static str)] {
        &SECTIONS
    }
}

/// A request of a signed-in platform operator. Nobody signed in is sent to the
/// console's sign-in; someone signed in as anything else (a shop's staff, a
/// buyer) gets the 403 page.
pub struct Console {
    pub visit: Visit,
    pub operator: Operator,
    pub lang: Lang,
    bearer: String,
}

impl FromRequest for Console {
    type Error = DeskError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        let visit = Visit::from_request(&request, payload);
        Box::pin(async move {
            let mut visit = visit.await.map_err(DeskError::Page)?;
            let bearer = visit.bearer_of(Seat::Operator).await;
            let operator = visit.session.as_ref().and_then(|s| s.data.operator.clone());
            match (bearer, operator) {
                (Some(bearer), Some(operator)) => Ok(Self {
                    lang: Lang::from_tag(&operator.lang).unwrap_or(Lang::ZhCn),
                    visit,
                    operator,
                    bearer,
                }),
                _ => {
                    let someone_else = visit.session.as_ref().is_some_and(|session| {
                        session.data.staff.is_some() || session.data.account.is_some()
                    });
                    if someone_else {
                        Err(DeskError::Page(PageError {
                            lang: visit.language_or(Lang::ZhCn),
                            kind: Failed::OperatorsOnly,
                        }))
                    } else {
                        Err(DeskError::SignIn {
                            at: "/ops/sign-in",
                            back: return_to(&request, "/ops"),
                        })
                    }
                }
            }
        })
    }
}

impl Console {
    /// Calls made as this operator.
    pub fn caller(&self) -> Caller<'_> {
        self.visit.caller().with_bearer(Some(&self.bearer))
    }

    pub fn api(&self) -> &caravan_client::Api {
        self.visit.api()
    }

    pub fn t(&self, key: &str) -> String {
        self.lang.t(key)
    }

    /// The frame of a console page titled `title` in `section`.
    pub fn frame(&self, title: impl Into<String>, section: &'static str) -> Frame {
        let mut frame = Frame::new(self.lang, title);
        frame.noindex = true;
        frame.ops = Some(OpsBar {
            section,
            csrf: self.visit.csrf(),
        });
        frame
    }

    pub fn check_csrf(&self, presented: &str) -> Result<(), PageError> {
        self.visit.check_csrf(self.lang, presented)
    }

    /// A page for a failure of the API (a 403: the account is no operator now).
    pub fn failed(&self, failure: &Failure) -> PageError {
        match failure.status() {
            Some(403) => PageError {
                lang: self.lang,
                kind: Failed::OperatorsOnly,
            },
            _ => PageError::from_failure(self.lang, failure),
        }
    }

    /// A refused form's sentences; a 404 or an outage is an error page instead.
    pub fn refused(&self, failure: &Failure) -> Result<Vec<String>, PageError> {
        match failure {
            Failure::Refused { status, .. } if *status != 404 && *status != 403 => {
                Ok(refusal(self.lang, failure))
            }
            _ => Err(self.failed(failure)),
        }
    }

    /// The id in a page's address; a malformed one is the 404 page.
    pub fn id(&self, text: &str) -> Result<uuid::Uuid, PageError> {
        crate::page::id_in(self.lang, text)
    }

    /// Sends a rendered page (never cached).
    pub async fn send(&mut self, status: StatusCode, template: &impl Template) -> HttpResponse {
        self.visit.send_private(self.lang, status, template).await
    }

    /// A `303` to `location`, saving the session first.
    pub async fn redirect(&mut self, location: &str) -> HttpResponse {
        self.visit.redirect(location).await
    }

    /// A time as operators in China read it.
    pub fn time(&self, at: chrono::DateTime<chrono::Utc>) -> String {
        crate::admin::orders::china_time(at)
    }

    /// What an audit or decision's actor field names, shortened for reading.
    pub fn actor(actor: &str) -> String {
        match actor.split_once(':') {
            Some((kind, id)) if id.len() > 8 => format!("{kind}:{}…", &id[..8]),
            _ => actor.to_owned(),
        }
    }
}
