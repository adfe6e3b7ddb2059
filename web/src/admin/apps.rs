//! What connects to the shop (owner only): app clients for integrations (the
//! secret is shown once, when made; revoke), and webhooks (create with their
//! events, the signing secret shown once, rotate it, the delivery log with each
//! attempt, retry a delivery, delete).

use super::{Desk, Done, Posted, Section};
use crate::page::{Frame, PageError};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use caravan_client::{AppClient, Delivery, Webhook};
use uuid::Uuid;

/// The scopes an app client may be given.
const SCOPES: [&str; 5] = [
    "catalog:read",
    "catalog:write",
    "orders:read",
    "orders:write",
    "webhooks:write",
];

/// The events a webhook may subscribe to.
const EVENTS: [&str; 19] = [
    "order.created",
    "order.paid",
    "order.cancelled",
    "order.fulfilled",
    "order.refunded",
    "order.expired",
    "product.created",
    "product.updated",
    "product.archived",
    "stock.changed",
    "stock.low",
    "tenant.updated",
    "tenant.plan_changed",
    "tenant.suspended",
    "tenant.reinstated",
    "tenant.closed",
    "user.invited",
    "membership.added",
    "*",
];

/// A secret to show once, with what it belongs to.
struct Shown {
    label: String,
    id: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "admin/apps.html")]
struct AppsPage {
    page: Frame,
    csrf: String,
    clients: Vec<AppClient>,
    webhooks: Vec<Webhook>,
    scopes: Vec<&'static str>,
    events: Vec<&'static str>,
    shown: Option<Shown>,
    problems: Vec<String>,
    notice: Option<String>,
}

impl AppsPage {
    fn when(&self, at: &chrono::DateTime<chrono::Utc>) -> String {
        super::orders::china_time(*at)
    }
}

async fn apps_page(
    desk: &mut Desk,
    shown: Option<Shown>,
    problems: Vec<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let caller = desk.caller();
    let (clients, webhooks) =
        futures_util::join!(desk.api().app_clients(caller), desk.api().webhooks(caller),);
    let clients = clients.map_err(|failure| desk.failed(&failure))?;
    let webhooks = webhooks.map_err(|failure| desk.failed(&failure))?;
    let page = AppsPage {
        page: desk.frame(desk.t("admin-apps-title"), Section::More),
        csrf: desk.visit.csrf(),
        clients: clients
            .into_iter()
            .filter(|c| c.revoked_at.is_none())
            .collect(),
        webhooks,
        scopes: SCOPES.to_vec(),
        events: EVENTS.to_vec(),
        shown,
        problems,
        notice,
    };
    Ok(desk.send(status, &page).await)
}

/// `GET /admin/apps` (owner).
pub async fn show(mut desk: Desk, query: web::Query<Done>) -> Result<HttpResponse, PageError> {
    let notice = query.notice(
        desk.lang,
        &[
            ("revoked", "admin-client-revoked"),
            ("deleted", "admin-webhook-deleted"),
        ],
    );
    apps_page(&mut desk, None, Vec::new(), notice, StatusCode::OK).await
}

/// `POST /admin/apps`: a new app client; its secret is on this answer only.
pub async fn create_client(
    mut desk: Desk,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let scopes: Vec<String> = form
        .all("scope")
        .into_iter()
        .filter(|s| SCOPES.contains(&s.as_str()))
        .collect();
    match desk
        .api()
        .create_app_client(desk.caller(), &form.get("name"), &scopes)
        .await
    {
        Ok(made) => {
            let shown = Shown {
                label: made.client.name,
                id: made.client.client_id,
                secret: made.client_secret,
            };
            apps_page(
                &mut desk,
                Some(shown),
                Vec::new(),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            apps_page(
                &mut desk,
                None,
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// `POST /admin/apps/{id}/revoke`.
pub async fn revoke_client(
    mut desk: Desk,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    desk.check_csrf(&Posted(form.into_inner()).get("csrf"))?;
    let id = desk.id(&id)?;
    desk.api()
        .revoke_app_client(desk.caller(), id)
        .await
        .map_err(|failure| desk.failed(&failure))?;
    Ok(desk.redirect("/admin/apps?done=revoked").await)
}

/// `POST /admin/webhooks`: a new endpoint; its signing secret is on this answer only.
pub async fn create_webhook(
    mut desk: Desk,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let form = Posted(form.into_inner());
    desk.check_csrf(&form.get("csrf"))?;
    let events: Vec<String> = form
        .all("event")
        .into_iter()
        .filter(|e| EVENTS.contains(&e.as_str()))
        .collect();
    match desk
        .api()
        .create_webhook(desk.caller(), &form.get("url"), &events)
        .await
    {
        Ok(made) => {
            let shown = Shown {
                label: made.endpoint.url,
                id: made.endpoint.id.to_string(),
                secret: made.secret,
            };
            apps_page(
                &mut desk,
                Some(shown),
                Vec::new(),
                None,
                StatusCode::CREATED,
            )
            .await
        }
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            apps_page(
                &mut desk,
                None,
                problems,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

struct DeliveryRow {
    id: String,
    event: String,
    status: String,
    when: String,
    attempts: Vec<String>,
    retry: bool,
}

#[derive(Template)]
#[template(path = "admin/webhook.html")]
struct WebhookPage {
    page: Frame,
    csrf: String,
    webhook: Webhook,
    deliveries: Vec<DeliveryRow>,
    shown: Option<String>,
    notice: Option<String>,
    problems: Vec<String>,
}

fn delivery_row(delivery: &Delivery) -> DeliveryRow {
    DeliveryRow {
        id: delivery.id.to_string(),
        event: delivery.event_type.clone(),
        retry: delivery.status != "delivered",
        status: delivery.status.clone(),
        when: super::orders::china_time(delivery.created_at),
        attempts: delivery
            .attempts
            .iter()
            .map(|a| {
                let outcome = a
                    .status_code
                    .map(|code| code.to_string())
                    .or_else(|| a.error.clone())
                    .unwrap_or_default();
                format!(
                    "#{} · {} · {} ms · {}",
                    a.attempt,
                    super::orders::china_time(a.at),
                    a.latency_ms,
                    outcome
                )
            })
            .collect(),
    }
}

async fn webhook_page(
    desk: &mut Desk,
    id: Uuid,
    shown: Option<String>,
    notice: Option<String>,
    problems: Vec<String>,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    let caller = desk.caller();
    let (webhook, deliveries) = futures_util::join!(
        desk.api().webhook(caller, id),
        desk.api().deliveries(caller, id),
    );
    let webhook = webhook.map_err(|failure| desk.failed(&failure))?;
    let deliveries = deliveries.map_err(|failure| desk.failed(&failure))?;
    let page = WebhookPage {
        page: desk.frame(desk.t("admin-webhook-title"), Section::More),
        csrf: desk.visit.csrf(),
        deliveries: deliveries.items.iter().map(delivery_row).collect(),
        webhook,
        shown,
        notice,
        problems,
    };
    Ok(desk.send(StatusCode::OK, &page).await)
}

/// `GET /admin/webhooks/{id}`: the endpoint and its delivery log.
pub async fn webhook(
    mut desk: Desk,
    id: web::Path<String>,
    query: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let id = desk.id(&id)?;
    let notice = query.notice(desk.lang, &[("retried", "admin-retried")]);
    webhook_page(&mut desk, id, None, notice, Vec::new()).await
}

/// `POST /admin/webhooks/{id}/{action}`: `rotate` (the new secret is shown once)
/// or `delete`.
pub async fn webhook_action(
    mut desk: Desk,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    desk.check_csrf(&Posted(form.into_inner()).get("csrf"))?;
    let (id, action) = path.into_inner();
    let id = desk.id(&id)?;
    match action.as_str() {
        "rotate" => {
            let made = desk
                .api()
                .rotate_webhook_secret(desk.caller(), id)
                .await
                .map_err(|failure| desk.failed(&failure))?;
            webhook_page(&mut desk, id, Some(made.secret), None, Vec::new()).await
        }
        "delete" => {
            desk.api()
                .delete_webhook(desk.caller(), id)
                .await
                .map_err(|failure| desk.failed(&failure))?;
            Ok(desk.redirect("/admin/apps?done=deleted").await)
        }
        _ => Err(PageError::not_found(desk.lang)),
    }
}

/// `POST /admin/webhooks/{id}/deliveries/{delivery}/retry`.
pub async fn retry(
    mut desk: Desk,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    desk.require_owner()?;
    desk.check_csrf(&Posted(form.into_inner()).get("csrf"))?;
    let (id, delivery) = path.into_inner();
    let id = desk.id(&id)?;
    let delivery = desk.id(&delivery)?;
    match desk.api().retry_delivery(desk.caller(), id, delivery).await {
        Ok(_) => Ok(desk
            .redirect(&format!("/admin/webhooks/{id}?done=retried"))
            .await),
        Err(failure) => {
            let problems = desk.refused(&failure)?;
            webhook_page(&mut desk, id, None, None, problems).await
        }
    }
}
