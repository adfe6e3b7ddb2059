//! Applications for a shop: the list by status, one application, and the decision
//! — approve on a plan (the shop opens and its owner is emailed an invitation) or
//! reject with a reason (emailed to the applicant).

use super::Console;
use crate::admin::{Done, Posted};
use crate::page::{Frame, PageError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{Application, Plan};
use serde::Deserialize;

/// The statuses an application can be in, in the order the list's tabs show them.
const STATUSES: [&str; 3] = ["pending", "approved", "rejected"];

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

struct Row {
    id: String,
    shop_name: String,
    slug: String,
    region: String,
    status: String,
    received: String,
}

#[derive(Template)]
#[template(path = "ops/applications.html")]
struct ListPage {
    page: Frame,
    statuses: Vec<super::Choice>,
    rows: Vec<Row>,
    next: Option<String>,
}

/// `GET /ops/applications?status=`.
pub async fn list(
    mut console: Console,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, PageError> {
    let status = query
        .status
        .as_deref()
        .filter(|status| STATUSES.contains(status))
        .unwrap_or("pending")
        .to_owned();
    let found = console
        .api()
        .applications(console.caller(), Some(&status), query.cursor.as_deref())
        .await
        .map_err(|failure| console.failed(&failure))?;
    let next = found.next_cursor.as_ref().map(|cursor| {
        serde_urlencoded::to_string([("status", status.as_str()), ("cursor", cursor)])
            .unwrap_or_default()
    });
    let page = ListPage {
        page: console.frame(console.t("ops-applications"), "applications"),
        rows: found
            .items
            .iter()
            .map(|a| Row {
                id: a.id.to_string(),
                shop_name: a.shop_name.clone(),
                slug: a.slug.clone(),
                region: a.region.clone(),
                status: a.status.clone(),
                received: console.time(a.created_at),
            })
            .collect(),
        statuses: super::choices(&STATUSES, &status),
        next,
    };
    Ok(console.send(StatusCode::OK, &page).await)
}

#[derive(Template)]
#[template(path = "ops/application.html")]
struct DetailPage {
    page: Frame,
    csrf: String,
    application: Application,
    received: String,
    decided: String,
    plans: Vec<Plan>,
    /// The plan the approval form offers first: the wished one.
    plan: String,
    reason: String,
    problems: Vec<String>,
    notice: Option<String>,
    shop_link: Option<String>,
}

async fn detail_page(
    console: &mut Console,
    id: uuid::Uuid,
    reason: String,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let caller = console.caller();
    let (application, plans) = futures_util::join!(
        console.api().application(caller, id),
        console.api().plans(caller),
    );
    let application = application.map_err(|failure| console.failed(&failure))?;
    let plans = plans.map_err(|failure| console.failed(&failure))?;
    let page = DetailPage {
        page: console.frame(application.shop_name.clone(), "applications"),
        csrf: console.visit.csrf(),
        received: console.time(application.created_at),
        decided: application
            .decided_at
            .map(|at| console.time(at))
            .unwrap_or_default(),
        plan: application
            .plan
            .clone()
            .unwrap_or_else(|| "free".to_owned()),
        shop_link: application.tenant_id.map(|id| format!("/ops/shops/{id}")),
        application,
        plans,
        reason,
        problems,
        notice,
    };
    Ok(console.send(status, &page).await)
}

/// `GET /ops/applications/{id}`.
pub async fn detail(
    mut console: Console,
    id: web::Path<String>,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let id = console.id(&id)?;
    let notice = query.notice(
        console.lang,
        &[
            ("approved", "ops-approved-notice"),
            ("rejected", "ops-rejected-notice"),
        ],
    );
    detail_page(
        &mut console,
        id,
        String::new(),
        Vec::new(),
        notice,
        StatusCode::OK,
    )
    .await
}

/// `POST /ops/applications/{id}/{approve|reject}`.
pub async fn decide(
    mut console: Console,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    let (id, decision) = path.into_inner();
    let id = console.id(&id)?;
    let form = Posted(form.into_inner());
    console.check_csrf(&form.get("csrf"))?;
    let reason = form.get("reason");
    let outcome = match decision.as_str() {
        "approve" => console
            .api()
            .approve_application(console.caller(), id, &form.get("plan"))
            .await
            .map(|_| "approved"),
        "reject" if reason.is_empty() => {
            let problems = vec![console.t("ops-reason-needed")];
            return detail_page(
                &mut console,
                id,
                reason,
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        "reject" => console
            .api()
            .reject_application(console.caller(), id, &reason)
            .await
            .map(|_| "rejected"),
        _ => return Err(PageError::not_found(console.lang)),
    };
    match outcome {
        Ok(done) => {
            let location = format!("/ops/applications/{id}?done={done}");
            Ok(console.redirect(&location).await)
        }
        Err(failure) => {
            let problems = match failure.code() {
                Some("invalid_status_change") => vec![console.t("ops-already-decided")],
                _ => console.refused(&failure)?,
            };
            let status = crate::admin::Desk::status_of(&failure);
            detail_page(&mut console, id, reason, problems, None, status).await
        }
    }
}
