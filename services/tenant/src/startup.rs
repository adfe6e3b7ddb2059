//! Builds the tenant service's application from its settings.

use crate::migrations::Migrations;
use crate::routes::{self, TenantState};
use crate::webhooks::delivery::Fanout;
use crate::webhooks::sender::Sender;
use actix_web::web;
use caravan_shared::config::{ServiceName, Settings, setting};
use caravan_shared::service::{ApiInfo, Application, ServiceContext};
use std::sync::Arc;
use std::time::Duration;

/// The service's OpenAPI title and description.
pub const API: ApiInfo = ApiInfo {
    title: "Caravan tenant service",
    description: "Cooperatives' shops as businesses on the platform: applications, onboarding, lifecycle, plans and quotas, settings, and public shop profiles.",
};

/// Provisions the database, starts the mail and webhook senders and the event
/// fan-out, then binds and builds the HTTP application.
pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    let source = settings.source.0.clone();
    let webhooks_allow_internal = setting(&*source, "WEBHOOKS_ALLOW_INTERNAL", false)?;
    let retry_base = Duration::from_millis(setting(&*source, "WEBHOOK_RETRY_BASE_MS", 30_000u64)?);
    let context = ServiceContext::start::<Migrations>(settings).await?;
    context.send_mail()?;
    context.keep_only_while_needed(&crate::retention::RULES)?;
    // Every service's events may be delivered to a shop's webhooks.
    for producer in ServiceName::ALL {
        context.subscribe(producer, Arc::new(Fanout))?;
    }
    Sender::new(
        context.db.clone(),
        &context.settings.database_url,
        retry_base,
        webhooks_allow_internal,
    )?
    .spawn(4);
    let state = web::Data::new(TenantState {
        context: context.clone(),
        webhooks_allow_internal,
    });
    Application::serve(&context, API, move |config| {
        config.app_data(state.clone());
        routes::configure(config);
    })
}
