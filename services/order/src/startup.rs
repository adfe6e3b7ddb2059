//! Builds the order service's application from its settings.

use crate::catalog::Catalog;
use crate::expiry::Expiry;
use crate::migrations::Migrations;
use crate::payments::Providers;
use crate::routes::{self, OrderState};
use crate::sweep::Sweep;
use actix_web::web;
use caravan_shared::config::{ServiceName, Settings, secret_setting, setting};
use caravan_shared::events::consumer::Handlers;
use caravan_shared::service::{ApiInfo, Application, ServiceContext};
use caravan_shared::tenant_status::TenantStatusHandler;
use std::sync::Arc;
use std::time::Duration;

/// The service's OpenAPI title and description.
pub const API: ApiInfo = ApiInfo {
    title: "Caravan order service",
    description: "Carts, checkout, orders, payments, fulfilment and shipping zones.",
};

/// Provisions the database, follows the shops, starts the mail sender, the
/// expiry of unpaid orders and the sweep of groups and harvest balances whose time
/// ran out, then binds and builds the HTTP application.
pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    let source = settings.source.0.clone();
    // The test card gateway marks orders paid on a signed notification: it is off
    // unless asked for, and then only with a secret of the deployment's own.
    let test_secret = if setting(&*source, "PAYMENT_TEST_GATEWAY", false)? {
        Some(secret_setting(&*source, "PAYMENT_TEST_WEBHOOK_SECRET")?)
    } else {
        None
    };
    let expiry_interval =
        Duration::from_millis(setting(&*source, "ORDER_EXPIRY_INTERVAL_MS", 1000u64)?);
    let sweep_interval = Duration::from_millis(setting(&*source, "SWEEP_INTERVAL_MS", 5000u64)?);
    let context = ServiceContext::start::<Migrations>(settings).await?;
    context.send_mail()?;
    context.keep_only_while_needed(&crate::retention::RULES)?;
    context.subscribe(
        ServiceName::Tenant,
        Arc::new(Handlers(vec![Arc::new(TenantStatusHandler)])),
    )?;
    let catalog = Arc::new(Catalog::new(
        context.settings.url_of(ServiceName::Catalog),
        context.tokens.clone(),
    )?);
    Expiry::new(context.db.clone(), catalog.clone(), expiry_interval).spawn();
    let providers = Providers::new(test_secret.as_deref());
    Sweep::new(context.db.clone(), providers.clone(), sweep_interval).spawn();
    let deadlines = caravan_shared::db::connect(&context.settings.database_url, 2).await?;
    let state = web::Data::new(OrderState {
        context: context.clone(),
        catalog,
        providers,
        deadlines,
        sold_out: crate::sold_out::SoldOut::new(context.redis.clone()),
    });
    Application::serve(&context, API, move |config| {
        config.app_data(state.clone());
        routes::configure(config);
    })
}
