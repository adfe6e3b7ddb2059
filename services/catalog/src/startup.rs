//! Builds the catalog service's application from its settings.

use crate::events::OrderStockHandler;
use crate::media_store::MediaSettings;
use crate::migrations::Migrations;
use crate::routes::{self, CatalogState, MediaStore};
use crate::storefront_cache::StorefrontCache;
use actix_web::web;
use anyhow::Context;
use caravan_shared::config::{ServiceName, Settings};
use caravan_shared::service::{ApiInfo, Application, ServiceContext};
use caravan_shared::tenant_status::TenantStatusHandler;
use std::sync::Arc;

/// The service's OpenAPI title and description.
pub const API: ApiInfo = ApiInfo {
    title: "Caravan catalog service",
    description: "What a cooperative sells: products, variants, categories, prices, stock and reservations, and the public storefront reads.",
};

/// Provisions the database, opens the photo store (`MEDIA_STORE`, see
/// [`crate::media_store`]), follows the shops' status, then binds and builds the
/// HTTP application.
pub async fn build(settings: Settings) -> anyhow::Result<Application> {
    let working_dir = std::env::current_dir().context("the working directory")?;
    let media = MediaSettings::from_source(&*settings.source.0, &working_dir)?.open()?;
    let context = ServiceContext::start::<Migrations>(settings).await?;
    context.keep_only_while_needed(&[])?;
    context.subscribe(ServiceName::Tenant, Arc::new(TenantStatusHandler))?;
    context.subscribe(ServiceName::Order, Arc::new(OrderStockHandler))?;
    let storefront = StorefrontCache::new();
    storefront.listen(&context.notifications);
    let state = web::Data::new(CatalogState {
        context: context.clone(),
        // Two photos decode at once per instance: each may take a few hundred MB.
        media: MediaStore::new(media, 2),
        storefront,
    });
    Application::serve(&context, API, move |config| {
        config.app_data(state.clone());
        routes::configure(config);
    })
}
