//! Builds the tenant service's application from its settings.

use crate::migrations::Migrations;
use crate::routes;
use caravan_shared::config::Settings;
use caravan_shared::service::{ApiInfo, Application, ServiceContext};

/// The service's OpenAPI title and description.
pub const API: ApiInfo = ApiInfo {
    title: "Caravan tenant service",
    description: "Cooperatives' shops as businesses on the platform: applications, onboarding, lifecycle, plans and quotas, settings, webhooks, and public shop profiles.",
};

/// Provisions the database, then binds and builds the HTTP application.
pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    let context = ServiceContext::start::<Migrations>(settings).await?;
    Application::serve(&context, API, routes::configure)
}
