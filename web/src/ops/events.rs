//! The services' parked events — what a service's handler kept failing on, with
//! the error — retried one at a time or all of a service's at once; and the
//! platform's own keys and people: rotating the token-signing key, making another
//! operator.

use super::Console;
use crate::admin::{Done, Posted};
use crate::page::{Frame, PageError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Failure, ParkedEvent, SERVICES};

/// A service's parked events, or why they cannot be listed.
struct ServiceEvents {
    service: &'static str,
    events: Vec<EventRow>,
    unavailable: bool,
}

struct EventRow {
    producer: String,
    seq: i64,
    event_type: String,
    error: String,
    attempts: i32,
    parked: String,
}

#[derive(Template)]
#[template(path = "ops/events.html")]
struct EventsPage {
    page: Frame,
    csrf: String,
    services: Vec<ServiceEvents>,
    problems: Vec<String>,
    notice: Option<String>,
}

async fn events_page(
    console: &mut Console,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = console.caller();
    let api = console.api();
    let found = futures_util::future::join_all(
        SERVICES.map(|service| async move { api.parked_events(caller, service).await }),
    )
    .await;
    let mut services = Vec::with_capacity(SERVICES.len());
    for (service, events) in SERVICES.into_iter().zip(found) {
        let (events, unavailable) = match events {
            Ok(events) => (events, false),
            Err(failure @ Failure::Refused { status: 403, .. }) => {
                return Err(console.failed(&failure));
            }
            Err(_) => (Vec::new(), true),
        };
        services.push(ServiceEvents {
            service,
            events: events.iter().map(|event| row(console, event)).collect(),
            unavailable,
        });
    }
    let page = EventsPage {
        page: console.frame(console.t("ops-events"), "events"),
        csrf: console.visit.csrf(),
        services,
        problems,
        notice,
    };
    Ok(console.send(status, &page).await)
}

fn row(console: &Console, event: &ParkedEvent) -> EventRow {
    EventRow {
        producer: event.producer.clone(),
        seq: event.seq,
        event_type: event.event_type.clone(),
        error: event.error.clone(),
        attempts: event.attempts,
        parked: console.time(event.parked_at),
    }
}

/// `GET /ops/events`.
pub async fn parked(
    mut console: Console,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let notice = query.notice(console.lang, &[("retried", "ops-events-retried")]);
    events_page(&mut console, Vec::new(), notice, StatusCode::OK).await
}

/// The service named in an address, if it is one.
fn service(console: &Console, name: &str) -> Result<&'static str, PageError> {
    SERVICES
        .into_iter()
        .find(|service| *service == name)
        .ok_or_else(|| PageError::not_found(console.lang))
}

/// Why a retry failed, as a sentence naming the event.
fn retry_failed(console: &Console, service: &str, failure: &Failure) -> String {
    let error = match failure {
        Failure::Refused { problem, .. } => problem.detail.clone().unwrap_or_default(),
        Failure::Unavailable(error) => error.clone(),
    };
    console.lang.t_with(
        "ops-retry-failed",
        &[("service", service.to_owned()), ("error", error)],
    )
}

/// `POST /ops/events/{service}/{producer}/{seq}/retry`.
pub async fn retry(
    mut console: Console,
    path: web::Path<(String, String, i64)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let (name, producer, seq) = path.into_inner();
    let service = service(&console, &name)?;
    console.check_csrf(&Posted(form.into_inner()).get("csrf"))?;
    match console
        .api()
        .retry_parked_event(console.caller(), service, &producer, seq)
        .await
    {
        Ok(_) => Ok(console.redirect("/ops/events?done=retried").await),
        Err(failure) => {
            let problems = vec![retry_failed(&console, service, &failure)];
            events_page(&mut console, problems, None, StatusCode::CONFLICT).await
        }
    }
}

/// `POST /ops/events/{service}/retry-all`: every parked event of the service, oldest
/// first; those that fail again stay parked and are named.
pub async fn retry_all(
    mut console: Console,
    path: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let service = service(&console, &path)?;
    console.check_csrf(&Posted(form.into_inner()).get("csrf"))?;
    let events = console
        .api()
        .parked_events(console.caller(), service)
        .await
        .map_err(|failure| console.failed(&failure))?;
    let mut problems = Vec::new();
    for event in &events {
        if let Err(failure) = console
            .api()
            .retry_parked_event(console.caller(), service, &event.producer, event.seq)
            .await
        {
            problems.push(retry_failed(&console, service, &failure));
        }
    }
    if problems.is_empty() {
        Ok(console.redirect("/ops/events?done=retried").await)
    } else {
        events_page(&mut console, problems, None, StatusCode::CONFLICT).await
    }
}

#[derive(Template)]
#[template(path = "ops/platform.html")]
struct PlatformPage {
    page: Frame,
    csrf: String,
    operator: String,
    email: String,
    problems: Vec<String>,
    notice: Option<String>,
}

async fn platform_page(
    console: &mut Console,
    email: String,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> HttpResponse {
    let page = PlatformPage {
        page: console.frame(console.t("ops-platform"), "platform"),
        csrf: console.visit.csrf(),
        operator: console.operator.account.email.clone(),
        email,
        problems,
        notice,
    };
    console.send(status, &page).await
}

/// `GET /ops/platform`.
pub async fn platform(mut console: Console, query: web::Query<Done>) -> HttpResponse {
    let notice = query.notice(
        console.lang,
        &[
            ("rotated", "ops-key-rotated"),
            ("operator", "ops-operator-created"),
        ],
    );
    platform_page(
        &mut console,
        String::new(),
        Vec::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// `POST /ops/keys/rotate`.
pub async fn rotate_key(
    mut console: Console,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    console.check_csrf(&Posted(form.into_inner()).get("csrf"))?;
    match console.api().rotate_signing_key(console.caller()).await {
        Ok(_) => Ok(console.redirect("/ops/platform?done=rotated").await),
        Err(failure) => {
            let problems = console.refused(&failure)?;
            let status = crate::admin::Desk::status_of(&failure);
            Ok(platform_page(&mut console, String::new(), problems, None, status).await)
        }
    }
}

/// `POST /ops/operators`: another platform operator.
pub async fn create_operator(
    mut console: Console,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let form = Posted(form.into_inner());
    console.check_csrf(&form.get("csrf"))?;
    let email = form.get("email");
    let password = form.raw("password");
    match console
        .api()
        .create_operator(console.caller(), &email, &password)
        .await
    {
        Ok(()) => Ok(console.redirect("/ops/platform?done=operator").await),
        Err(failure) => {
            let problems = match &failure {
                Failure::Refused {
                    status: 422,
                    problem,
                } if problem.errors.iter().any(|e| e.field == "password") => {
                    vec![console.t("account-password-rules")]
                }
                _ => console.refused(&failure)?,
            };
            let status = crate::admin::Desk::status_of(&failure);
            Ok(platform_page(&mut console, email, problems, None, status).await)
        }
    }
}
