//! Builds the tenant service's application from its settings.

use crate::migrations::Migrations;
use crate::routes::{self, TenantState};
use actix_web::web;
use caravan_shared::config::{Settings, setting};
use caravan_shared::service::{ApiInfo, Application, ServiceContext};

/// The service's OpenAPI title and description.
pub const API: ApiInfo = ApiInfo {
    title: "Caravan tenant service",
    description: "Cooperatives' shops as businesses on the platform: applications, onboarding, lifecycle, plans and quotas, settings, and public shop profiles.",
};

/// Provisions the database, starts the mail sender, then binds and builds the HTTP
/// application.
pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    let trust_forwarded_for = setting(&*settings.source.0, "TRUST_FORWARDED_FOR", false)?;
    let context = ServiceContext::start::<Migrations>(settings).await?;
    context.send_mail()?;
    let state = web::Data::new(TenantState {
        context: context.clone(),
        trust_forwarded_for,
    });
    Application::serve(&context, API, move |config| {
        config.app_data(state.clone());
        routes::configure(config);
    })
}
