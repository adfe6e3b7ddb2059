//! The catalog service's HTTP routes (parse, call, map).

mod categories;
mod internal;
mod inventory;
mod media;
mod operations;
mod products;
mod storefront;
mod transfer;

use crate::storefront_cache::StorefrontCache;
use caravan_shared::service::ServiceContext;
pub use media::MediaStore;
use utoipa_actix_web::service_config::ServiceConfig;

/// What the catalog routes share.
pub struct CatalogState {
    /// Database, Redis, settings.
    pub context: ServiceContext,
    /// Uploaded photos.
    pub media: MediaStore,
    /// The storefront's finished answers.
    pub storefront: StorefrontCache,
}

/// Registers the service's routes; each is collected into its OpenAPI document.
pub fn configure(config: &mut ServiceConfig) {
    config
        .service(transfer::import)
        .service(transfer::export)
        .service(products::create)
        .service(products::list)
        .service(products::show)
        .service(products::update)
        .service(products::update_variant)
        .service(products::add_variant)
        .service(products::archive)
        .service(products::remove)
        .service(inventory::adjust)
        .service(inventory::ledger)
        .service(inventory::stock)
        .service(media::upload)
        .service(media::serve)
        .service(categories::create_category)
        .service(categories::update_category)
        .service(categories::delete_category)
        .service(categories::categories)
        .service(storefront::list)
        .service(storefront::detail)
        .service(storefront::categories)
        .service(internal::variants)
        .service(internal::reserve)
        .service(internal::commit)
        .service(internal::release)
        .service(operations::catalog_usage);
}
